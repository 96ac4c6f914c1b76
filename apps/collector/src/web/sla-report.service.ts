import { Injectable } from '@nestjs/common';
import { AlertingService } from '../alerting/alerting.service.js';
import type { SlaQuery } from '../history/history.dto.js';
import { HistoryService, totalOf, type MaintenanceOf, type SlaRow, type Uptime } from '../history/history.service.js';

/** The monthly SLA report as the CSV and the printable page both show it. */
export interface SlaReport {
  month: string;
  rows: SlaRow[];
  /** Every line counted together. */
  total: Uptime;
}

/**
 * Uptime figures with or without the times maintenance windows covered a check (`exclude`, the
 * default: planned work is not downtime): the windows are the alerting engine's, the counting is
 * history's.
 */
@Injectable()
export class SlaReportService {
  constructor(
    private readonly history: HistoryService,
    private readonly alerting: AlertingService,
  ) {}

  maintenance(choice: 'exclude' | 'include'): MaintenanceOf | undefined {
    return choice === 'exclude' ? (check, from, to) => this.alerting.maintenanceOf(check, from, to) : undefined;
  }

  async report(q: SlaQuery): Promise<SlaReport> {
    const rows = await this.history.slaRows(q.from, q.to, q.grouping, this.maintenance(q.maintenance), q.tag);
    return { month: q.month, rows, total: totalOf(rows, q.from, q.to) };
  }
}

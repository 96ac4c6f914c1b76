import { Module } from '@nestjs/common';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

/**
 * The audit log: reading, exporting and verifying it. Appending is not a service here: each
 * change's repository calls appendAudit in its own transaction (see audit.repository.ts).
 */
@Module({
  providers: [AuditRepository, AuditService],
  exports: [AuditRepository, AuditService],
})
export class AuditModule {}

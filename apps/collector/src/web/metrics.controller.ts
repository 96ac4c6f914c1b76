import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { CollectorConfig } from '../config/env.js';
import { CONTENT_TYPES, negotiate } from '../metrics/exposition.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { COLLECTOR_CONFIG } from '../shared/tokens.js';
import { Access } from '../auth/access.decorator.js';

function sameSecret(presented: string, expected: string): boolean {
  // Hashing first gives equal lengths, so the comparison time says nothing about the secret.
  return timingSafeEqual(createHash('sha256').update(presented).digest(), createHash('sha256').update(expected).digest());
}

/**
 * Prometheus scrape endpoint: the text format, or OpenMetrics when the Accept header asks
 * for it. Open unless ROUNDS_METRICS_TOKEN (bearer) or ROUNDS_METRICS_USER/PASSWORD
 * (basic) are set; with both, either credential is accepted. Public to the access guard: scrapers
 * carry their own credential, not a user's.
 */
@Controller()
@Access('public')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(COLLECTOR_CONFIG) private readonly config: Pick<CollectorConfig, 'metricsAuth'>,
  ) {}

  @Get('metrics')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    const refusal = this.refusal(req.headers.authorization);
    if (refusal) {
      const { token, basic } = this.config.metricsAuth;
      const challenges = [...(basic ? ['Basic realm="rounds metrics", charset="UTF-8"'] : []), ...(token ? ['Bearer realm="rounds metrics"'] : [])];
      res.setHeader('WWW-Authenticate', challenges.join(', '));
      res.status(401).type('text/plain').send(`${refusal}\n`);
      return;
    }
    const format = negotiate(req.headers.accept);
    const body = await this.metrics.scrapeBytes(format);
    res.status(200).setHeader('Content-Type', CONTENT_TYPES[format]);
    res.setHeader('Cache-Control', 'no-store');
    // end(), not send(): send() hashes the whole exposition for an ETag nobody asks for.
    res.end(body);
  }

  /** Why the request is refused, or undefined when it may scrape. */
  private refusal(header: string | undefined): string | undefined {
    const { token, basic } = this.config.metricsAuth;
    if (!token && !basic) return undefined;
    const how = [
      ...(token ? ['"Authorization: Bearer <ROUNDS_METRICS_TOKEN>" (Prometheus: authorization.credentials)'] : []),
      ...(basic ? ['basic auth with ROUNDS_METRICS_USER/ROUNDS_METRICS_PASSWORD (Prometheus: basic_auth)'] : []),
    ].join(' or ');
    if (!header) return `/metrics needs credentials: send ${how}`;
    const [scheme = '', ...rest] = header.trim().split(/\s+/);
    const value = rest.join(' ');
    if (token && scheme.toLowerCase() === 'bearer' && sameSecret(value, token)) return undefined;
    if (basic && scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // Both compared every time, so a wrong user name takes as long as a wrong password.
      const userOk = sameSecret(colon < 0 ? decoded : decoded.slice(0, colon), basic.user);
      const passwordOk = sameSecret(colon < 0 ? '' : decoded.slice(colon + 1), basic.password);
      if (colon >= 0 && userOk && passwordOk) return undefined;
    }
    return `/metrics refused these credentials: send ${how}`;
  }
}

import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { ApiTokenGuard } from './api-token.guard.js';
import { ApiTokenService } from './api-token.service.js';
import { ApiTokenStore } from './api-token.store.js';

/** Who may call the API: the API token (its hash on disk), checked with throttling by one guard. */
@Module({
  imports: [AuditModule],
  providers: [ApiTokenStore, ApiTokenService, ApiTokenGuard],
  exports: [ApiTokenService, ApiTokenGuard],
})
export class AuthModule {}

import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccessGuard } from './access.guard.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import { ApiTokensService } from './api-tokens.service.js';
import { LegacyApiTokenStore } from './legacy-api-token.store.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';
import { SignInRepository } from './sign-in.repository.js';
import { SignInService } from './sign-in.service.js';

/** Who is calling: browser sessions (signing in, step by step), per-user API tokens, and the one guard that checks every route. */
@Module({
  imports: [AuditModule, UsersModule],
  providers: [ApiTokensRepository, ApiTokensService, LegacyApiTokenStore, SessionsRepository, SessionsService, SignInRepository, SignInService, AccessGuard],
  exports: [ApiTokensService, SessionsService, SignInService, AccessGuard],
})
export class AuthModule {}

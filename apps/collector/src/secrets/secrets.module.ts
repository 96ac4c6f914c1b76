import { Module } from '@nestjs/common';
import { SecretsRepository } from './secrets.repository.js';
import { SecretsService } from './secrets.service.js';

/** Secrets at rest: the start-up sweep (serve) and `rounds-collector secrets rotate-key`. */
@Module({
  providers: [SecretsRepository, SecretsService],
  exports: [SecretsService],
})
export class SecretsModule {}

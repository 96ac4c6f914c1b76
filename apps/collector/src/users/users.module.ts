import { Module } from '@nestjs/common';
import { PasswordHasher } from './passwords.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';
import { TwoFactorService } from './two-factor.service.js';

/** Users of the admin UI: accounts, roles and password hashes (sign-in over HTTP comes later). */
@Module({
  providers: [UsersRepository, PasswordHasher, UsersService, TwoFactorService],
  exports: [UsersService, TwoFactorService],
})
export class UsersModule {}

import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { ApiTokenService } from '../../services/api-token.service.js';

@Injectable()
export class ApiTokenGuard implements CanActivate {
  constructor(private readonly tokens: ApiTokenService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (this.tokens.verify(token)) return true;
    throw new UnauthorizedException(
      token === undefined
        ? 'send the API token as "Authorization: Bearer <token>" (shown once at first start; `rounds-collector api-token rotate` makes a new one)'
        : 'the API token is wrong — `rounds-collector api-token rotate` makes a new one',
    );
  }
}

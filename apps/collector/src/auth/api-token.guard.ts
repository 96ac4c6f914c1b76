import { HttpException, HttpStatus, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiTokenService } from './api-token.service.js';

const ROTATE = '`rounds-collector api-token rotate` makes a new one';

/** `Authorization: Bearer <token>` on every API call: 401 when it is missing or wrong, 429 with Retry-After while the address is throttled. */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  constructor(private readonly tokens: ApiTokenService) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const verdict = this.tokens.check(request.headers.authorization, request.socket.remoteAddress, `${request.method} ${request.path.slice(0, 200)}`);
    if (verdict.ok) return true;
    if (verdict.why === 'throttled') {
      const seconds = Math.ceil(verdict.retryAfterMs / 1000);
      http.getResponse<Response>().setHeader('Retry-After', String(seconds));
      throw new HttpException(
        {
          statusCode: HttpStatus.TOO_MANY_REQUESTS,
          error: 'Too Many Requests',
          message: `too many wrong API tokens from ${verdict.peer}: refused without checking for ${seconds} s more — then send the current token (${ROTATE})`,
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    throw new UnauthorizedException(
      verdict.why === 'no bearer token'
        ? `send the API token as "Authorization: Bearer <token>" (shown once at first start; ${ROTATE})`
        : `the API token is wrong — ${ROTATE}`,
    );
  }
}

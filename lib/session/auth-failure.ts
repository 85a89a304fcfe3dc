import { HttpException } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { AuthKitFailure } from './session.types.js';

/** Answers a failed resolution: 401 (or 503 while WorkOS is unreachable) naming the reason. */
export function rejectRequest(
  adapterHost: HttpAdapterHost,
  res: object,
  failure: AuthKitFailure,
): never {
  const adapter = adapterHost.httpAdapter;
  if (failure.source === 'bearer' && failure.status === 401) {
    adapter.setHeader(res, 'WWW-Authenticate', 'Bearer error="invalid_token"');
  }
  if (failure.status === 503) adapter.setHeader(res, 'Retry-After', '1');
  throw new HttpException(
    {
      statusCode: failure.status,
      error: failure.status === 401 ? 'Unauthorized' : 'Service Unavailable',
      reason: failure.reason,
      message: failure.detail,
    },
    failure.status,
  );
}

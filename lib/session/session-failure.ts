import { AuthKitException } from '../context/authkit.exception.js';
import type { AuthKitFailure } from './session.types.js';

/** The refusal for a failed resolution: 401, or 503 while WorkOS or its keys are unreachable. */
export function failureException(failure: AuthKitFailure): AuthKitException {
  const headers: Record<string, string> = {};
  if (failure.source === 'bearer' && failure.status === 401) {
    headers['WWW-Authenticate'] = 'Bearer error="invalid_token"';
  }
  if (failure.status === 503) headers['Retry-After'] = '1';
  return new AuthKitException({
    reason: failure.reason,
    status: failure.status,
    detail: failure.detail,
    headers,
  });
}

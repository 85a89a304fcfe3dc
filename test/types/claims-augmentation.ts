// Compiled by `npm run typecheck`: custom claims declared once are typed everywhere.
import { RequireClaim, type AccessTokenClaims } from 'nestjs-authkit';

declare module 'nestjs-authkit' {
  interface AccessTokenClaims {
    'urn:acme:plan'?: 'free' | 'pro';
  }
}

const claims = {} as AccessTokenClaims;
const plan: 'free' | 'pro' | undefined = claims['urn:acme:plan'];
RequireClaim('urn:acme:plan', (value) => value === 'pro');
// @ts-expect-error not a plan
RequireClaim('urn:acme:plan', (value) => value === 'gold');
export { plan };

// The floor under a session read: exactly the crypto and parsing an iron unseal and a JWT
// verify need, written plainly with node:crypto and nothing else (no checks beyond the MAC
// and the signature, no caching, no claims rules). Ours is compared against it.
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Verifies an RS256 compact JWS with `key`; returns its parsed header and payload. */
export function bearerFloor(token: string, key: KeyObject): { header: unknown; payload: unknown } {
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  const signed = verify(
    'RSA-SHA256',
    Buffer.from(token.slice(0, secondDot)),
    key,
    Buffer.from(token.slice(secondDot + 1), 'base64url'),
  );
  if (!signed) throw new Error('floor: signature does not verify');
  return {
    header: JSON.parse(Buffer.from(token.slice(0, firstDot), 'base64url').toString('utf8')),
    payload: JSON.parse(
      Buffer.from(token.slice(firstDot + 1, secondDot), 'base64url').toString('utf8'),
    ),
  };
}

/**
 * Unseals a Fe26.2 cookie (2 x PBKDF2-SHA1 at 1 iteration, HMAC-SHA256 over the seal base,
 * AES-256-CBC), parses its JSON, then verifies and parses its access token.
 */
export function cookieFloor(sealed: string, password: string, key: KeyObject): unknown {
  const parts = sealed.slice(0, sealed.indexOf('~')).split('*');
  const [, , salt = '', iv = '', encrypted = '', , macSalt = '', mac = ''] = parts;
  const base = parts.slice(0, 6).join('*');
  const macKey = pbkdf2Sync(password, macSalt, 1, 32, 'sha1');
  const expected = createHmac('sha256', macKey).update(base).digest();
  if (!timingSafeEqual(expected, Buffer.from(mac, 'base64url'))) throw new Error('floor: bad MAC');
  const encryptionKey = pbkdf2Sync(password, salt, 1, 32, 'sha1');
  const decipher = createDecipheriv('aes-256-cbc', encryptionKey, Buffer.from(iv, 'base64url'));
  const text = Buffer.concat([
    decipher.update(Buffer.from(encrypted, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
  const data = JSON.parse(text) as { accessToken: string };
  return bearerFloor(data.accessToken, key);
}

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/*
 * The iron "Fe26.2" seal that @workos-inc/node and authkit-nextjs write
 * (`Fe26.2*1*<salt>*<iv>*<ciphertext>*<expiry>*<hmacSalt>*<hmac>~2`), done with
 * synchronous node:crypto: the SDK's WebCrypto path is ~20x slower per request.
 * Keys: PBKDF2-SHA1, 1 iteration, 256-bit, salted with the hex salt's UTF-8 bytes.
 */

const PREFIX = 'Fe26.2';
const PASSWORD_ID = '1';
const VERSION_SUFFIX = '~2';
const SALT_BYTES = 32;
const IV_BYTES = 16;
const KEY_BYTES = 32;
const MAC_BYTES = 32;
/** iron's default allowance for clock skew on a seal's own expiry. */
const EXPIRY_SKEW_MS = 60_000;

export const MIN_COOKIE_PASSWORD_LENGTH = 32;

export type UnsealFailure = 'malformed' | 'bad_mac' | 'expired_seal' | 'bad_payload';
export type UnsealResult = { ok: true; data: unknown } | { ok: false; reason: UnsealFailure };

function deriveKey(password: string, salt: string): Buffer {
  return pbkdf2Sync(password, salt, 1, KEY_BYTES, 'sha1');
}

function mac(password: string, salt: string, base: string): Buffer {
  return createHmac('sha256', deriveKey(password, salt)).update(base).digest();
}

/** Seals JSON data exactly as `@workos-inc/node` does (password id `1`, no expiry, `~2`). */
export function seal(data: unknown, password: string): string {
  const salt = randomBytes(SALT_BYTES).toString('hex');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-cbc', deriveKey(password, salt), iv);
  const encrypted = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  const base = `${PREFIX}*${PASSWORD_ID}*${salt}*${iv.toString('base64url')}*${encrypted.toString('base64url')}*`;
  const macSalt = randomBytes(SALT_BYTES).toString('hex');
  return `${base}*${macSalt}*${mac(password, macSalt, base).toString('base64url')}${VERSION_SUFFIX}`;
}

/**
 * Unseals a Fe26.2 string. Never throws: every way a seal can be wrong is a
 * reason, so a forged cookie can never become a 500.
 */
export function unseal(sealed: string, password: string): UnsealResult {
  const tilde = sealed.indexOf('~');
  if (tilde !== -1 && sealed.slice(tilde) !== VERSION_SUFFIX) return fail('malformed');
  const parts = (tilde === -1 ? sealed : sealed.slice(0, tilde)).split('*');
  if (parts.length !== 8) return fail('malformed');
  const [prefix, passwordId, salt, ivB64, encryptedB64, expiry, macSalt, macB64] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (prefix !== PREFIX || passwordId !== PASSWORD_ID || !salt || !macSalt) {
    return fail('malformed');
  }
  if (expiry !== '' && !/^[1-9]\d{0,15}$/.test(expiry)) return fail('malformed');

  const given = Buffer.from(macB64, 'base64url');
  const base = `${prefix}*${passwordId}*${salt}*${ivB64}*${encryptedB64}*${expiry}`;
  const expected = mac(password, macSalt, base);
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, expected)) return fail('bad_mac');
  // Only now is the rest known to be ours, so the expiry is worth reading.
  if (expiry !== '' && Number(expiry) <= Date.now() - EXPIRY_SKEW_MS) return fail('expired_seal');

  try {
    const iv = Buffer.from(ivB64, 'base64url');
    const decipher = createDecipheriv('aes-256-cbc', deriveKey(password, salt), iv);
    const text = Buffer.concat([
      decipher.update(Buffer.from(encryptedB64, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
    return { ok: true, data: JSON.parse(text) as unknown };
  } catch {
    return fail('bad_payload');
  }
}

function fail(reason: UnsealFailure): UnsealResult {
  return { ok: false, reason };
}

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
/** The id a plain-string password seals with (the SDK's and iron-session's). */
const DEFAULT_PASSWORD_ID = '1';
const VERSION_SUFFIX = '~2';
const SALT_BYTES = 32;
const IV_BYTES = 16;
const KEY_BYTES = 32;
const MAC_BYTES = 32;
/** iron's default allowance for clock skew on a seal's own expiry. */
const EXPIRY_SKEW_MS = 60_000;

export const MIN_COOKIE_PASSWORD_LENGTH = 32;

export type UnsealFailure =
  | 'malformed'
  | 'bad_mac'
  | 'expired_seal'
  | 'bad_payload'
  /** Sealed with a password id this app does not (or no longer) know. */
  | 'unknown_password';
export type UnsealResult = { ok: true; data: unknown } | { ok: false; reason: UnsealFailure };

/**
 * Passwords for rotation, iron-session's `{ 2: 'new…', 1: 'old…' }` form normalized once at
 * boot: seal with `current` (the highest numeric id), unseal with whichever id the seal names.
 */
export interface CookiePasswords {
  readonly current: { readonly id: string; readonly secret: string };
  readonly byId: ReadonlyMap<string, string>;
}

/**
 * A plain string is password id `1`, exactly as the SDK and iron-session seal it.
 * @inline
 */
export type CookiePasswordInput = string | Readonly<Record<string | number, string>>;

/**
 * Validates and normalizes a password (set). Ids follow iron (`[A-Za-z0-9_]+`); the newest is
 * the highest numeric one, as iron-session picks it, so both write with the same password.
 */
export function cookiePasswords(
  input: CookiePasswordInput,
): { ok: true; passwords: CookiePasswords } | { ok: false; problems: string[] } {
  const entries: Array<[string, unknown]> =
    typeof input === 'string' ? [[DEFAULT_PASSWORD_ID, input]] : Object.entries(input);
  const problems: string[] = [];
  if (entries.length === 0) {
    problems.push('cookiePassword has no passwords: give at least one, e.g. { 1: "…32+ chars…" }.');
  }
  let current: { id: string; secret: string } | undefined;
  const byId = new Map<string, string>();
  for (const [id, secret] of entries) {
    const label = typeof input === 'string' ? 'cookiePassword' : `cookiePassword id "${id}"`;
    if (!/^\w+$/.test(id) || /^0\d/.test(id)) {
      problems.push(
        `${label}: an id is letters, digits or _ (iron's rule), numbers without leading zeros.`,
      );
      continue;
    }
    if (typeof secret !== 'string' || secret.length < MIN_COOKIE_PASSWORD_LENGTH) {
      problems.push(
        `${label} must be at least ${MIN_COOKIE_PASSWORD_LENGTH} characters ` +
          `(got ${typeof secret === 'string' ? secret.length : 0}): ` +
          'e.g. from `openssl rand -base64 32`.',
      );
      continue;
    }
    byId.set(id, secret);
    if (/^\d+$/.test(id) && (!current || Number(id) > Number(current.id))) {
      current = { id, secret };
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  if (!current) {
    return {
      ok: false,
      problems: [
        'cookiePassword needs a numeric id for the password that seals new cookies ' +
          '(the highest number is the newest, as in iron-session): e.g. { 2: new, old: previous }.',
      ],
    };
  }
  return { ok: true, passwords: { current, byId } };
}

function deriveKey(password: string, salt: string): Buffer {
  return pbkdf2Sync(password, salt, 1, KEY_BYTES, 'sha1');
}

function mac(password: string, salt: string, base: string): Buffer {
  return createHmac('sha256', deriveKey(password, salt)).update(base).digest();
}

/**
 * Seals JSON data exactly as `@workos-inc/node` does (no expiry, `~2`), with the newest
 * password of a set (a plain string is id `1`, as the SDK writes).
 */
export function seal(data: unknown, passwords: string | CookiePasswords): string {
  const { id, secret: password } =
    typeof passwords === 'string'
      ? { id: DEFAULT_PASSWORD_ID, secret: passwords }
      : passwords.current;
  const salt = randomBytes(SALT_BYTES).toString('hex');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-cbc', deriveKey(password, salt), iv);
  const encrypted = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  const base = `${PREFIX}*${id}*${salt}*${iv.toString('base64url')}*${encrypted.toString('base64url')}*`;
  const macSalt = randomBytes(SALT_BYTES).toString('hex');
  return `${base}*${macSalt}*${mac(password, macSalt, base).toString('base64url')}${VERSION_SUFFIX}`;
}

/**
 * Unseals a Fe26.2 string with the password its id names. Never throws: every way a seal can
 * be wrong is a reason, so a forged cookie can never become a 500.
 */
export function unseal(sealed: string, passwords: string | CookiePasswords): UnsealResult {
  const tilde = sealed.indexOf('~');
  if (tilde !== -1 && sealed.slice(tilde) !== VERSION_SUFFIX) return fail('malformed');
  const body = tilde === -1 ? sealed : sealed.slice(0, tilde);
  const parts = body.split('*');
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
  if (prefix !== PREFIX || !passwordId || !salt || !macSalt) return fail('malformed');
  if (expiry !== '' && !/^[1-9]\d{0,15}$/.test(expiry)) return fail('malformed');
  const password =
    typeof passwords === 'string'
      ? passwordId === DEFAULT_PASSWORD_ID
        ? passwords
        : undefined
      : passwords.byId.get(passwordId);
  if (password === undefined) return fail('unknown_password');

  const given = Buffer.from(macB64, 'base64url');
  // What the MAC covers is the seal up to `*<macSalt>*<mac>`: sliced, not joined again.
  const base = body.slice(0, body.length - macSalt.length - macB64.length - 2);
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

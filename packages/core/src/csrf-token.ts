import { timingSafeEqual } from './compare.ts'
import { SessionConfigError } from './errors.ts'
import { randomString } from './ids.ts'

/** Django's `CSRF_ALLOWED_CHARS`: `string.ascii_letters + string.digits`, in that order. */
export const CSRF_ALLOWED_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
/** Django's `CSRF_SECRET_LENGTH` (32 characters of 62: 190 bits). */
export const CSRF_SECRET_LENGTH = 32
/** Django's `CSRF_TOKEN_LENGTH`: a 32-character mask followed by the 32-character masked secret. */
export const CSRF_TOKEN_LENGTH = 2 * CSRF_SECRET_LENGTH

/** Options of `djangoCsrfTokens`. */
export interface DjangoCsrfTokenOptions {
  /**
   * The Django release the tokens must interoperate with, `major.minor`. Up to 4.0 the cookie holds
   * a masked 64-character token; from 4.1 (ticket #32800) it holds the bare 32-character secret.
   * Every version accepts both forms in the cookie and in the request token. @default '4.2'
   */
  djangoVersion?: string
  /**
   * Django 4.1's `CSRF_COOKIE_MASKED`: write the masked form into the cookie although the version
   * is 4.1+. Only 4.1 and 4.2 have the setting (removed in 5.0). @default false on 4.1+, true below
   */
  cookieMasked?: boolean
}

/** The token codec, Django's `_mask_cipher_secret` / `_unmask_cipher_token` and friends. */
export interface DjangoCsrfTokens {
  /** The configured version, `major.minor`. */
  readonly djangoVersion: string
  /** Whether the cookie (or `_csrftoken` session value) holds a masked token. */
  readonly cookieMasked: boolean
  /** A new secret: 32 characters of `CSRF_ALLOWED_CHARS` from Web Crypto. */
  newSecret(): string
  /** A fresh 64-character masked token for `secret` (a new random mask each call, against BREACH). */
  mask(secret: string): string
  /** What the cookie holds for `secret`: masked up to 4.0 (or with `cookieMasked`), bare from 4.1. */
  cookieValue(secret: string): string
  /** The secret inside a cookie value or request token (32 = bare, 64 = masked), or `null`. */
  secretOf(token: string | null | undefined): string | null
  /** Whether `token` (32 or 64 characters) carries `secret`; constant time in the content. */
  matches(token: string | null | undefined, secret: string): boolean
}

const N = CSRF_ALLOWED_CHARS.length
// Character code -> index in CSRF_ALLOWED_CHARS (-1 elsewhere): a table, not indexOf, so the
// lookup does not take longer for later characters.
const INDEX = new Int8Array(128).fill(-1)
for (let i = 0; i < N; i++) INDEX[CSRF_ALLOWED_CHARS.charCodeAt(i)] = i
const WELL_FORMED = /^(?:[A-Za-z0-9]{32}|[A-Za-z0-9]{64})$/

/** Whether `token` has Django's token format: 32 or 64 ASCII letters and digits. */
export function isCsrfTokenFormat(token: unknown): token is string {
  return typeof token === 'string' && WELL_FORMED.test(token)
}

function mask(secret: string): string {
  const pad = randomString(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
  let cipher = ''
  for (let i = 0; i < CSRF_SECRET_LENGTH; i++) {
    cipher += CSRF_ALLOWED_CHARS[(INDEX[secret.charCodeAt(i)]! + INDEX[pad.charCodeAt(i)]!) % N]
  }
  return pad + cipher
}

function unmask(token: string): string {
  let secret = ''
  for (let i = 0; i < CSRF_SECRET_LENGTH; i++) {
    const x = INDEX[token.charCodeAt(CSRF_SECRET_LENGTH + i)]!
    const y = INDEX[token.charCodeAt(i)]!
    secret += CSRF_ALLOWED_CHARS[(x - y + N) % N]
  }
  return secret
}

function parseVersion(version: string): [number, number] | null {
  const match = /^([1-9][0-9]?)\.([0-9]{1,2})(?:\.[0-9]+)?$/.exec(version)
  return match ? [Number(match[1]), Number(match[2])] : null
}

/**
 * Django's CSRF token formats for one Django release. Both the masked (64) and the bare (32)
 * form are accepted everywhere, as every Django release since 1.10 accepts both; the version only
 * decides what is written into the cookie.
 */
export function djangoCsrfTokens(options: DjangoCsrfTokenOptions = {}, pkg = 'core'): DjangoCsrfTokens {
  const djangoVersion = options.djangoVersion ?? '4.2'
  const parsed = typeof djangoVersion === 'string' ? parseVersion(djangoVersion) : null
  if (!parsed || parsed[0] < 3) {
    throw new SessionConfigError(
      pkg,
      'djangoVersion',
      '%s must be a Django release like "3.2", "4.2" or "5.2"',
    )
  }
  const [major, minor] = parsed
  const bareByDefault = major > 4 || (major === 4 && minor >= 1)
  const cookieMasked = options.cookieMasked ?? !bareByDefault
  if (typeof cookieMasked !== 'boolean') {
    throw new SessionConfigError(pkg, 'cookieMasked', '%s must be true or false')
  }
  if (bareByDefault && major >= 5 && cookieMasked) {
    throw new SessionConfigError(pkg, 'cookieMasked', '%s (CSRF_COOKIE_MASKED) does not exist in Django 5.0+')
  }
  if (!bareByDefault && !cookieMasked) {
    throw new SessionConfigError(
      pkg,
      'cookieMasked',
      `%s cannot be false: Django ${djangoVersion} masks the cookie`,
    )
  }
  const secretOf = (token: string | null | undefined): string | null => {
    if (!isCsrfTokenFormat(token)) return null
    return token.length === CSRF_TOKEN_LENGTH ? unmask(token) : token
  }
  return Object.freeze({
    djangoVersion: `${major}.${minor}`,
    cookieMasked,
    newSecret: () => randomString(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS),
    mask,
    cookieValue: (secret: string) => (cookieMasked ? mask(secret) : secret),
    secretOf,
    matches(token: string | null | undefined, secret: string) {
      const candidate = secretOf(token)
      // Compare against a same-length dummy when malformed, so both paths cost one comparison.
      return timingSafeEqual(candidate ?? '\0'.repeat(CSRF_SECRET_LENGTH), secret) && candidate !== null
    },
  })
}

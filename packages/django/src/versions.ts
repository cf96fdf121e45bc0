import { SessionConfigError } from '@sessionbridge/core'

/**
 * The Django release line beside this app. It decides what Node writes (PBKDF2 iterations, the
 * form of `_session_expiry`) and which older forms it still reads (SHA-1, fallback secrets), so
 * that both sides read each other and never rewrite each other's data. Tested: 3.2, 4.2, 5.2.
 */
export type DjangoVersion = '3.2' | '4.0' | '4.1' | '4.2' | '5.0' | '5.1' | '5.2'

/** What a Django release line does differently, as this package needs to know it. */
export interface DjangoTraits {
  readonly version: DjangoVersion
  /** `PBKDF2PasswordHasher.iterations` of that release. */
  readonly pbkdf2Iterations: number
  /**
   * SHA-1 forms still read (3.2 only; 4.0 removed them): signatures made with
   * `DEFAULT_HASHING_ALGORITHM = 'sha1'`, pre-3.1 session data, SHA-1 `_auth_user_hash`.
   */
  readonly sha1Forms: boolean
  /**
   * `SECRET_KEY_FALLBACKS` (4.1+): signed data and `_auth_user_hash` verify under older secrets,
   * and a login verified only that way is re-issued under the current secret with a new key.
   */
  readonly fallbackKeys: boolean
  /** `set_expiry(datetime)` stores an ISO 8601 string in `_session_expiry` (4.1+; 3.2 cannot store one). */
  readonly isoExpiry: boolean
  /** `ScryptPasswordHasher` is among the default `PASSWORD_HASHERS` (4.0+). */
  readonly scrypt: boolean
}

// PBKDF2 iterations by release (django/contrib/auth/hashers.py of each line).
const ITERATIONS: Readonly<Record<DjangoVersion, number>> = {
  '3.2': 260_000,
  '4.0': 320_000,
  '4.1': 390_000,
  '4.2': 600_000,
  '5.0': 720_000,
  '5.1': 870_000,
  '5.2': 1_000_000,
}

/** The release lines this package knows, oldest first. */
export const DJANGO_VERSIONS = Object.freeze(Object.keys(ITERATIONS) as DjangoVersion[])

/** The default `djangoVersion`: the oldest supported line, whose work factor no supported Django rewrites down to ping-pong. */
export const DEFAULT_DJANGO_VERSION: DjangoVersion = '3.2'

/** The traits of a release line; `SessionConfigError` naming `option` for anything else. */
export function djangoTraits(version: DjangoVersion | undefined, option = 'djangoVersion'): DjangoTraits {
  const v = version ?? DEFAULT_DJANGO_VERSION
  if (typeof v !== 'string' || !Object.hasOwn(ITERATIONS, v)) {
    throw new SessionConfigError(
      'django',
      option,
      `%s must be one of ${DJANGO_VERSIONS.map((x) => `"${x}"`).join(', ')} (got ${JSON.stringify(v)})`,
    )
  }
  const [major, minor] = v.split('.').map(Number) as [number, number]
  const atLeast = (m: number, n: number) => major > m || (major === m && minor >= n)
  return Object.freeze({
    version: v,
    pbkdf2Iterations: ITERATIONS[v],
    sha1Forms: !atLeast(4, 0),
    fallbackKeys: atLeast(4, 1),
    isoExpiry: atLeast(4, 1),
    scrypt: atLeast(4, 0),
  })
}

import { SessionConfigError } from '@sessionbridge/core'
import { constantTimeEqual, saltedHmac, toHex } from './crypto.ts'
import type { DjangoTraits } from './versions.ts'

const SESSION_HASH_SALT = 'django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash'

/** Options of `sessionAuthHash`. */
export interface SessionAuthHashOptions {
  secretKey: string
  /** `SECRET_KEY_FALLBACKS` (Django 4.1+). @default [] */
  fallbackKeys?: readonly string[]
  traits: DjangoTraits
}

/** `_auth_user_hash`: made under the current secret, checked as the configured Django checks it. */
export interface SessionAuthHash {
  make(password: string): Promise<string>
  /** `true` (current secret), `'fallback'` (only a fallback secret: re-issue), or `false` (flush). */
  verify(password: string, hash: string): Promise<boolean | 'fallback'>
}

/** Django's `get_session_auth_hash` and the checks of `django.contrib.auth.get_user`. */
export function sessionAuthHash(options: SessionAuthHashOptions): SessionAuthHash {
  const { secretKey, traits } = options
  const fallbackKeys = options.fallbackKeys ?? []
  if (!Array.isArray(fallbackKeys) || fallbackKeys.some((k) => typeof k !== 'string' || k.length === 0)) {
    throw new SessionConfigError('django', 'fallbackKeys', '%s must be an array of non-empty strings')
  }
  if (fallbackKeys.length > 0 && !traits.fallbackKeys) {
    throw new SessionConfigError(
      'django',
      'fallbackKeys',
      `%s needs Django 4.1+ (SECRET_KEY_FALLBACKS); djangoVersion is "${traits.version}"`,
    )
  }
  const hashWith = async (password: string, key: string, algorithm: 'sha256' | 'sha1') =>
    toHex(await saltedHmac(SESSION_HASH_SALT, password, key, algorithm))

  return Object.freeze({
    make: (password: string) => hashWith(password, secretKey, 'sha256'),
    async verify(password: string, hash: string): Promise<boolean | 'fallback'> {
      if (typeof hash !== 'string' || hash.length === 0) return false
      // Django 3.2 also accepts the legacy SHA-1 hash (40 hex characters) under SECRET_KEY, as is.
      if (hash.length === 40) {
        return traits.sha1Forms && constantTimeEqual(hash, await hashWith(password, secretKey, 'sha1'))
      }
      if (constantTimeEqual(hash, await hashWith(password, secretKey, 'sha256'))) return true
      for (const key of fallbackKeys) {
        if (constantTimeEqual(hash, await hashWith(password, key, 'sha256'))) return 'fallback'
      }
      return false
    },
  })
}

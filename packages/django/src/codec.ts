import {
  djangoIdFormat,
  type SessionCodec,
  SessionConfigError,
  type SessionData,
  type SessionLogger,
} from '@sessionbridge/core'
import {
  BoundedCache,
  isPlainObject,
  missingOption,
  RESERVED_KEYS,
  wallClock,
} from '@sessionbridge/core/adapter'
import { base64DecodeLenient, constantTimeEqual, latin1Decode, saltedHmac, toHex } from './crypto.ts'
import { parseDjangoExpiry } from './expiry.ts'
import { pythonJsonLoads } from './python-json.ts'
import { TimestampSigner } from './signer.ts'
import { decodePayload, dumps } from './signing.ts'
import { type DjangoVersion, djangoTraits } from './versions.ts'

const PKG = 'django'
const SESSIONS_PREFIX = 'django.contrib.sessions.'

/** Options of `djangoCodec`. */
export interface DjangoCodecOptions {
  /** Django's `SECRET_KEY`. New session data is signed with it. */
  secretKey: string
  /**
   * The Django beside this app: 3.2 still reads SHA-1 signatures and the pre-3.1 format; 4.1+ has
   * `SECRET_KEY_FALLBACKS` and ISO datetimes in `_session_expiry`. @default '3.2'
   */
  djangoVersion?: DjangoVersion
  /**
   * Older secrets whose signatures are still accepted (`SECRET_KEY_FALLBACKS`, Django 4.1+; with an
   * older `djangoVersion` a `SessionConfigError`, since that Django would refuse such data). @default []
   */
  fallbackKeys?: readonly string[]
  /**
   * The session store's key salt: `'django.contrib.sessions.' + SessionStore.__qualname__`.
   * @default 'django.contrib.sessions.SessionStore'
   */
  salt?: string
  /** Largest session JSON accepted after inflating, in bytes. @default 16777216 (16 MiB) */
  maxBytes?: number
  /**
   * Verified decodes remembered, keyed by the whole signed string (same bytes, same result), so a
   * session read on every request is inflated and verified once. `0` turns it off. @default 1000
   */
  cacheSize?: number
  /** Where "Session data corrupted" warnings go. @default console */
  logger?: SessionLogger
  /** Clock for the signing timestamp, epoch ms. @default wallClock */
  now?: () => number
}

/**
 * Django before 4.1 cannot read an ISO datetime in `_session_expiry` (its middleware fails on every
 * request of that session): such an absolute expiry is written as the seconds left, the nearest
 * form it reads.
 */
function withNumericExpiry(data: SessionData, now: number): SessionData {
  const expiry = data[RESERVED_KEYS.expiry]
  if (typeof expiry !== 'string') return data
  const at = parseDjangoExpiry(expiry)
  const { [RESERVED_KEYS.expiry]: _, ...rest } = data
  return at === null ? rest : { ...rest, [RESERVED_KEYS.expiry]: Math.max(1, Math.ceil((at - now) / 1000)) }
}

/**
 * Django's `session_data` encoding (`SessionBase.encode/decode`): `signing.dumps` with the session
 * salt and compression, Python-exact JSON. Reads the pre-3.1 format and SHA-1 signatures as 3.2 does.
 * Anything that does not verify or decode is "no session" plus a warning, never an exception.
 */
export function djangoCodec(options: DjangoCodecOptions): SessionCodec {
  if (!options || options.secretKey === undefined) throw missingOption(PKG, 'secretKey')
  if (typeof options.secretKey !== 'string' || options.secretKey.length === 0) {
    throw new SessionConfigError(PKG, 'secretKey', '%s must be a non-empty string')
  }
  const salt = options.salt ?? 'django.contrib.sessions.SessionStore'
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
    throw new SessionConfigError(PKG, 'maxBytes', '%s must be a positive whole number')
  }
  const traits = djangoTraits(options.djangoVersion)
  if ((options.fallbackKeys?.length ?? 0) > 0 && !traits.fallbackKeys) {
    throw new SessionConfigError(
      PKG,
      'fallbackKeys',
      `%s needs Django 4.1+ (SECRET_KEY_FALLBACKS); djangoVersion is "${traits.version}"`,
    )
  }
  const cacheSize = options.cacheSize ?? 1000
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new SessionConfigError(PKG, 'cacheSize', '%s must be a whole number >= 0')
  }
  // Only successes are cached, and only values of ordinary size, so input cannot grow it unboundedly.
  const verifiedDecodes = new BoundedCache<string, SessionData>(cacheSize)
  // The cache keeps its own copy (callers own what they get); no copy when nothing is kept.
  const remember = (stored: string, value: SessionData) => {
    if (cacheSize > 0 && stored.length <= 64 * 1024) verifiedDecodes.set(stored, structuredClone(value))
  }
  const keys = [options.secretKey, ...(options.fallbackKeys ?? [])]
  const logger = options.logger ?? console
  const now = options.now ?? wallClock
  const signerOptions = {
    key: options.secretKey,
    fallbackKeys: options.fallbackKeys ?? [],
    salt,
    acceptSha1: traits.sha1Forms,
    now,
  }
  const signer = new TimestampSigner(signerOptions)
  // Pre-3.1 data was signed with 'django.contrib.sessions' + class name (no dot), HMAC-SHA1, hex.
  // Django 4.0 stopped reading it.
  const legacySalt =
    traits.sha1Forms && salt.startsWith(SESSIONS_PREFIX)
      ? `django.contrib.sessions${salt.slice(SESSIONS_PREFIX.length)}`
      : null
  const warn = (why: string) => logger.warn(`[sessionbridge/${PKG}] Session data corrupted (${why})`)

  async function legacyDecode(stored: string): Promise<SessionData | null> {
    if (legacySalt === null) return null
    const raw = base64DecodeLenient(stored)
    if (raw === null) return null
    const colon = raw.indexOf(0x3a)
    if (colon < 0) return null
    const hash = latin1Decode(raw.subarray(0, colon))
    const serialized = raw.slice(colon + 1)
    let ok = false
    for (const key of keys) {
      if (constantTimeEqual(hash, toHex(await saltedHmac(legacySalt, serialized, key, 'sha1')))) ok = true
    }
    if (!ok) return null
    try {
      const value = pythonJsonLoads(latin1Decode(serialized))
      return isPlainObject(value) ? value : null
    } catch {
      return null
    }
  }

  return Object.freeze({
    name: 'django',
    idFormat: djangoIdFormat,
    encode(data: SessionData): Promise<string> {
      const written = traits.isoExpiry ? data : withNumericExpiry(data, now())
      return dumps(written, { ...signerOptions, compress: true })
    },
    async decode(stored: string): Promise<SessionData | null> {
      if (typeof stored !== 'string') return null
      const hit = verifiedDecodes.get(stored)
      // A copy: callers own what they get and may change it.
      if (hit) return structuredClone(hit)
      const value = await decodeUncached(stored)
      if (value) remember(stored, value)
      return value
    },
  })

  async function decodeUncached(stored: string): Promise<SessionData | null> {
    try {
      const check = await signer.check(stored)
      if (check.status === 'valid') {
        const decoded = await decodePayload(check.value, maxBytes)
        if (decoded === null) {
          warn('signed, but not base64/zlib/JSON')
          return null
        }
        if (!isPlainObject(decoded.value)) {
          warn('signed, but not a JSON object')
          return null
        }
        return decoded.value
      }
      const legacy = await legacyDecode(stored)
      if (legacy) return legacy
      warn('bad signature')
      return null
    } catch (error) {
      warn((error as Error).message)
      return null
    }
  }
}

import {
  djangoIdFormat,
  isPlainObject,
  missingOption,
  type SessionCodec,
  SessionConfigError,
  type SessionData,
  type SessionLogger,
} from '@sessionbridge/core'
import { base64DecodeLenient, constantTimeEqual, latin1Decode, saltedHmac, toHex } from './crypto.ts'
import { pythonJsonLoads } from './python-json.ts'
import { TimestampSigner } from './signer.ts'
import { decodePayload, dumps } from './signing.ts'

const PKG = 'django'
const SESSIONS_PREFIX = 'django.contrib.sessions.'

/** Options of `djangoCodec`. */
export interface DjangoCodecOptions {
  /** Django's `SECRET_KEY`. New session data is signed with it. */
  secretKey: string
  /** Older secrets whose signatures are still accepted (`SECRET_KEY_FALLBACKS`). @default [] */
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
  /** Clock for the signing timestamp, epoch ms. @default Date.now */
  now?: () => number
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
  const cacheSize = options.cacheSize ?? 1000
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new SessionConfigError(PKG, 'cacheSize', '%s must be a whole number >= 0')
  }
  // Only successes are cached, and only values of ordinary size, so input cannot grow it unboundedly.
  const verifiedDecodes = new Map<string, SessionData>()
  const remember = (stored: string, value: SessionData) => {
    if (cacheSize === 0 || stored.length > 64 * 1024) return
    if (verifiedDecodes.size >= cacheSize) verifiedDecodes.delete(verifiedDecodes.keys().next().value!)
    verifiedDecodes.set(stored, value)
  }
  const keys = [options.secretKey, ...(options.fallbackKeys ?? [])]
  const logger = options.logger ?? console
  const signerOptions = {
    key: options.secretKey,
    fallbackKeys: options.fallbackKeys ?? [],
    salt,
    ...(options.now ? { now: options.now } : {}),
  }
  const signer = new TimestampSigner(signerOptions)
  // Pre-3.1 data was signed with 'django.contrib.sessions' + class name (no dot), HMAC-SHA1, hex.
  const legacySalt = salt.startsWith(SESSIONS_PREFIX)
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
      return dumps(data, { ...signerOptions, compress: true })
    },
    async decode(stored: string): Promise<SessionData | null> {
      if (typeof stored !== 'string') return null
      const hit = verifiedDecodes.get(stored)
      // A copy: callers own what they get and may change it.
      if (hit) return structuredClone(hit)
      const value = await decodeUncached(stored)
      if (value) remember(stored, structuredClone(value))
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

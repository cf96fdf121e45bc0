import { COOKIE_SAFE } from './cookies.ts'
import type { IdFormat } from './types.ts'

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * `length` characters drawn uniformly from `alphabet` with Web Crypto. Rejection sampling keeps
 * the draw unbiased for alphabets whose size does not divide 256.
 */
export function randomString(length: number, alphabet: string): string {
  const n = alphabet.length
  if (n < 2 || n > 256) throw new RangeError('alphabet must hold 2 to 256 characters')
  const limit = 256 - (256 % n)
  let out = ''
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array((length - out.length) * 2))
    for (const b of bytes) {
      if (b < limit) {
        out += alphabet[b % n]
        if (out.length === length) break
      }
    }
  }
  return out
}

/** Valid ids an id format remembers (then it starts over): a few per request in flight. */
const REMEMBERED_IDS = 1024

/** Options of `alphabetIdFormat`. */
export interface AlphabetIdFormatOptions {
  /** Characters ids are drawn from. */
  alphabet: string
  /** Length of every id. */
  length: number
}

/** What no id is: `alphabetIdFormat`'s "found valid last" before any. */
const NONE: unique symbol = Symbol('no id')

/**
 * Ids of a fixed length over one alphabet. Refuses formats with fewer than 128 bits of entropy,
 * so no configuration can make ids guessable.
 */
export function alphabetIdFormat(options: AlphabetIdFormatOptions): IdFormat {
  const { alphabet, length } = options
  const bits = length * Math.log2(alphabet.length)
  if (bits < 128)
    throw new RangeError(`id format has ${bits.toFixed(0)} bits of entropy; at least 128 are needed`)
  const allowed = new Set(alphabet)
  // Every request with a cookie validates its id: a lookup table by char code when the alphabet is
  // Latin-1 (every built-in format), the Set otherwise.
  const table = [...allowed].every((ch) => ch.length === 1 && ch.charCodeAt(0) < 256)
    ? new Uint8Array(256)
    : null
  if (table) for (const ch of allowed) table[ch.charCodeAt(0)] = 1
  // A request's id is checked again at each backend call (ids are foreign input at a backend's
  // door), and it is one string object from the cookie to the commit, often the same one across
  // requests (the signer remembers its verified cookies). Ids found valid lately are known by one
  // lookup, whose hash V8 keeps in the string: walking 32 characters sliced out of a cookie header
  // cost about 2,000 instructions a check.
  const valid = new Set<string>()
  // The id found valid last: a request's backend call checks the id its cookie's check just passed,
  // the same string object (one comparison where the Set looked it up again: a Fastify SQLite read
  // 218 → 126 instructions in the Set's lookups, 57 → 95 in `validate`).
  let lastValid: string | typeof NONE = NONE
  const walk = (id: string): boolean => {
    if (table) {
      for (let i = 0; i < length; i++) if (table[id.charCodeAt(i)] !== 1) return false
      return true
    }
    for (const ch of id) if (!allowed.has(ch)) return false
    return true
  }
  const format: IdFormat = {
    generate: () => randomString(length, alphabet),
    validate(id) {
      if (id === lastValid) return true
      if (typeof id !== 'string' || id.length !== length) return false
      if (!valid.has(id)) {
        if (!walk(id)) return false
        if (valid.size >= REMEMBERED_IDS) valid.clear()
        valid.add(id)
      }
      lastValid = id
      return true
    },
  }
  if (COOKIE_SAFE.test(alphabet)) cookieSafeFormats.add(format)
  return format
}

/** Formats made by `alphabetIdFormat` over cookie-safe alphabets: every id they accept is. */
const cookieSafeFormats = new WeakSet<IdFormat>()
/**
 * Whether every id `format` accepts goes into a cookie as is: only for formats made here, whose
 * alphabet is known; an app's own format is checked per cookie instead.
 */
export const cookieSafeIds = (format: IdFormat): boolean => cookieSafeFormats.has(format)

/**
 * 32 characters of `[a-z0-9]` (165 bits): Django's session key format, and the default, so a
 * Django service can read every id sessionbridge issues.
 */
export const djangoIdFormat: IdFormat = alphabetIdFormat({ alphabet: LOWER_ALNUM, length: 32 })

/** 64 characters of `[A-Za-z0-9]`: the rest-sessions token format. */
export const alnum64IdFormat: IdFormat = alphabetIdFormat({ alphabet: ALNUM, length: 64 })

/** The default id format: Django's. */
export const defaultIdFormat: IdFormat = djangoIdFormat

/** A random opaque token (tickets, CSRF-like secrets): base64url of `bytes` random bytes. */
export function randomToken(bytes = 24): string {
  if (bytes < 16) throw new RangeError('a token needs at least 16 random bytes (128 bits)')
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(bytes)))
}

/** Standard base64 with `=` padding (Python's `base64.b64encode`), Web APIs only. */
export function base64Encode(bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}

/** Unpadded base64url, Web APIs only. */
export function base64UrlEncode(bytes: Uint8Array): string {
  return base64Encode(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Decodes unpadded or padded base64url; `null` for anything that is not base64url. */
export function base64UrlDecode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return null
  const b64 = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')
  if (b64.length % 4 === 1) return null
  try {
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
    const out = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
    return out
  } catch {
    return null
  }
}

import { timingSafeEqual } from '@sessionbridge/core/adapter'

/** The hash functions Django signs with: `sha256` (3.1+) and the legacy `sha1` that 3.2 still reads. */
export type DjangoHashAlgorithm = 'sha256' | 'sha1'

const encoder = new TextEncoder()
const WEB_HASH: Record<DjangoHashAlgorithm, string> = { sha256: 'SHA-256', sha1: 'SHA-1' }
// HMAC keys depend only on (salt, secret, algorithm): derive each once per process.
const keyCache = new Map<string, Promise<CryptoKey>>()
const KEY_CACHE_LIMIT = 256

/** UTF-8 bytes of `text` (Django's `force_bytes`). */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text)
}

/** The HMAC key Django's `salted_hmac` derives: a plain hash of `key_salt + secret`. */
export function saltedHmacKey(
  keySalt: string,
  secret: string,
  algorithm: DjangoHashAlgorithm,
): Promise<CryptoKey> {
  const id = `${algorithm}\u0000${keySalt}\u0000${secret}`
  let key = keyCache.get(id)
  if (!key) {
    const hash = WEB_HASH[algorithm]
    key = crypto.subtle
      .digest(hash, utf8(keySalt + secret))
      .then((raw) => crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash }, false, ['sign']))
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value!)
    keyCache.set(id, key)
  }
  return key
}

/** Django's `salted_hmac(key_salt, value, secret, algorithm=...)`, as raw digest bytes. */
export async function saltedHmac(
  keySalt: string,
  value: string | Uint8Array<ArrayBuffer>,
  secret: string,
  algorithm: DjangoHashAlgorithm = 'sha1',
): Promise<Uint8Array> {
  const key = await saltedHmacKey(keySalt, secret, algorithm)
  return new Uint8Array(
    await crypto.subtle.sign('HMAC', key, typeof value === 'string' ? utf8(value) : value),
  )
}

/** Lower-case hex, as Python's `hexdigest()`. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

/** Standard base64 with `=` padding (Python's `base64.b64encode`). */
export function base64Encode(bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}

/**
 * Decodes base64 leniently like Python's `base64.b64decode` / `urlsafe_b64decode` after Django re-adds
 * padding: both alphabets, optional padding. `null` when it is not base64.
 */
export function base64DecodeLenient(text: string): Uint8Array | null {
  const body = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')
  if (!/^[A-Za-z0-9+/]*$/.test(body) || body.length % 4 === 1) return null
  try {
    const bin = atob(body + '='.repeat((4 - (body.length % 4)) % 4))
    const out = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
    return out
  } catch {
    return null
  }
}

/** Bytes as a string of code points 0-255: Python's `bytes.decode('latin-1')`. */
export function latin1Decode(bytes: Uint8Array): string {
  let out = ''
  const CHUNK = 0x8000
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode(...bytes.subarray(i, i + CHUNK))
  }
  return out
}

/** A string of code points 0-255 as bytes (`str.encode('latin-1')`); `null` if a char is wider. */
export function latin1Encode(text: string): Uint8Array<ArrayBuffer> | null {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c > 0xff) return null
    out[i] = c
  }
  return out
}

/** Constant-time equality of two strings (Django's `constant_time_compare`). */
export const constantTimeEqual = (a: string, b: string): boolean => timingSafeEqual(a, b)

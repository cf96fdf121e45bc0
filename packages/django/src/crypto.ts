import {
  BoundedCache,
  type HmacHash,
  type HmacKey,
  hmacKey,
  type NativeCrypto,
  nativeModules,
  timingSafeEqual,
} from '@sessionbridge/core/adapter'

/** The hash functions Django signs with: `sha256` (3.1+) and the legacy `sha1` that 3.2 still reads. */
export type DjangoHashAlgorithm = 'sha256' | 'sha1'

const encoder = new TextEncoder()
const WEB_HASH: Record<DjangoHashAlgorithm, HmacHash> = { sha256: 'SHA-256', sha1: 'SHA-1' }
// HMAC keys depend only on (salt, secret, algorithm): derive each once per process (through Web
// Crypto the derivation is a promise).
const hmacKeys = new BoundedCache<string, HmacKey | Promise<HmacKey>>(256)

/** UTF-8 bytes of `text` (Django's `force_bytes`). */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text)
}

/** The same bytes as a plain `Uint8Array` (Node answers a `Buffer`, a subclass), without a copy. */
export function plainBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Django's `salted_hmac(key_salt, value, secret, algorithm=...)`, as raw digest bytes. Its key is a
 * plain hash of `key_salt + secret`. `native`: Node's `crypto` (the default where the runtime has
 * it); `null` computes through Web Crypto.
 */
export async function saltedHmac(
  keySalt: string,
  value: string | Uint8Array<ArrayBuffer>,
  secret: string,
  algorithm: DjangoHashAlgorithm = 'sha1',
  native: NativeCrypto | null = nativeModules?.crypto ?? null,
): Promise<Uint8Array> {
  const id = `${algorithm}\u0000${keySalt}\u0000${secret}`
  const hash = WEB_HASH[algorithm]
  const key = hmacKeys.getOrSet(id, () =>
    native
      ? hmacKey(
          hash,
          native
            .createHash(algorithm)
            .update(keySalt + secret)
            .digest(),
          native,
        )
      : crypto.subtle
          .digest(hash, utf8(keySalt + secret))
          .then((raw) => hmacKey(hash, new Uint8Array(raw), null)),
  )
  return (key instanceof Promise ? await key : key).bytes(value)
}

/** Lower-case hex, as Python's `hexdigest()`. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

export { base64Encode } from '@sessionbridge/core/adapter'

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

// Strict UTF-8: a byte sequence it decodes into as many characters as bytes was pure ASCII.
const asciiDecoder = new TextDecoder('utf-8', { fatal: true })

/** Bytes as a string of code points 0-255: Python's `bytes.decode('latin-1')`. */
export function latin1Decode(bytes: Uint8Array): string {
  // Django's JSON is ASCII (ensure_ascii): decoded natively, where latin-1 and UTF-8 agree. The
  // Web's 'latin1' decoder is windows-1252, so it cannot serve the rest.
  try {
    const ascii = asciiDecoder.decode(bytes)
    if (ascii.length === bytes.length) return ascii
  } catch {
    // not UTF-8, so not ASCII either
  }
  let out = ''
  const CHUNK = 0x2000
  for (let i = 0; i < bytes.length; i += CHUNK) {
    // `apply` takes the typed array as it is; a spread would make an iterator and an array first.
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[])
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

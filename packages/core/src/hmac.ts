import { base64Encode, base64UrlEncode } from './ids.ts'
import { type NativeCrypto, nativeModules } from './native.ts'

/** A hash an HMAC is made with. */
export type HmacHash = 'SHA-256' | 'SHA-1'
/** How `HmacKey.text` writes a MAC: unpadded base64url, or standard base64 with its padding. */
export type HmacEncoding = 'base64url' | 'base64'

/**
 * HMACs under one key. Through Node's `crypto` every answer is synchronous (`sync` is true), so a
 * caller on the hot path can skip the promise; through Web Crypto they are promises. Both give the
 * same bytes.
 */
export interface HmacKey {
  readonly sync: boolean
  /** The MAC's bytes. */
  bytes(data: string | Uint8Array): Uint8Array<ArrayBuffer> | Promise<Uint8Array<ArrayBuffer>>
  /** The MAC as text (Node encodes it natively). */
  text(data: string | Uint8Array, encoding: HmacEncoding): string | Promise<string>
}

const encoder = new TextEncoder()
const NATIVE_NAME: Record<HmacHash, string> = { 'SHA-256': 'sha256', 'SHA-1': 'sha1' }
const bytesOf = (data: string | Uint8Array): Uint8Array<ArrayBuffer> =>
  typeof data === 'string' ? encoder.encode(data) : (data as Uint8Array<ArrayBuffer>)

/**
 * An HMAC key over `key` (a string is taken as UTF-8). `native`: Node's `crypto` (the default
 * where the runtime has it), or `null` for Web Crypto, as the tests do to run that path on Node.
 */
export function hmacKey(
  hash: HmacHash,
  key: string | Uint8Array,
  native: NativeCrypto | null = nativeModules?.crypto ?? null,
): HmacKey {
  const raw = bytesOf(key) // encoded once: a string key would be encoded again on every call
  if (native) {
    const algorithm = NATIVE_NAME[hash]
    return Object.freeze({
      sync: true,
      bytes: (data: string | Uint8Array) => {
        const out = native.createHmac(algorithm, raw).update(data).digest() // a Buffer
        return new Uint8Array(out.buffer as ArrayBuffer, out.byteOffset, out.byteLength)
      },
      text: (data: string | Uint8Array, encoding: HmacEncoding) =>
        native.createHmac(algorithm, raw).update(data).digest(encoding),
    })
  }
  let imported: Promise<CryptoKey> | undefined
  const bytes = async (data: string | Uint8Array) => {
    imported ??= crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash }, false, ['sign'])
    return new Uint8Array(await crypto.subtle.sign('HMAC', await imported, bytesOf(data)))
  }
  return Object.freeze({
    sync: false,
    bytes,
    text: async (data: string | Uint8Array, encoding: HmacEncoding) => {
      const mac = await bytes(data)
      return encoding === 'base64url' ? base64UrlEncode(mac) : base64Encode(mac)
    },
  })
}

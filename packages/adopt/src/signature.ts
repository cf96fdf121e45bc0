import { SessionConfigError } from '@sessionbridge/core'
import { type NativeCrypto, nativeModules, timingSafeEqual } from '@sessionbridge/core/adapter'

const encoder = new TextEncoder()

/** Base64 HMACs of a value, one per secret, keys imported once on first use. */
export type HmacSigners = ReadonlyArray<(value: string) => Promise<string>>

/**
 * One signer per secret (`SHA-256` for cookie-signature, `SHA-1` for keygrip). `native`: Node's
 * `crypto` (the default where the runtime has it, synchronous), or `null` for Web Crypto.
 */
export function hmacSigners(
  secrets: readonly string[],
  hash: 'SHA-256' | 'SHA-1',
  native: NativeCrypto | null = nativeModules?.crypto ?? null,
): HmacSigners {
  if (native) {
    const algorithm = hash === 'SHA-256' ? 'sha256' : 'sha1'
    return secrets.map((secret) => {
      const key = encoder.encode(secret)
      return async (value: string) => native.createHmac(algorithm, key).update(value).digest('base64')
    })
  }
  return secrets.map((secret) => {
    let key: Promise<CryptoKey> | undefined
    return async (value: string) => {
      key ??= crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash }, false, ['sign'])
      const signature = await crypto.subtle.sign('HMAC', await key, encoder.encode(value))
      let binary = ''
      for (const byte of new Uint8Array(signature)) binary += String.fromCharCode(byte)
      return btoa(binary)
    }
  })
}

/**
 * `cookie-signature`'s `unsign` (express-session, @fastify/cookie): `value.base64(HMAC-SHA256)`
 * without padding, tried against each secret. The value, or `null` when no secret signed it.
 */
export async function unsignCookieSignature(signed: string, signers: HmacSigners): Promise<string | null> {
  const dot = signed.lastIndexOf('.')
  if (dot <= 0) return null
  const value = signed.slice(0, dot)
  const given = signed.slice(dot + 1)
  for (const sign of signers) {
    if (timingSafeEqual(given, (await sign(value)).replace(/=+$/, ''))) return value
  }
  return null
}

/** `keygrip`'s `verify` (koa-session's `.sig` cookie): base64url HMAC-SHA1 of `data`, any key. */
export async function keygripVerify(data: string, signature: string, signers: HmacSigners): Promise<boolean> {
  for (const sign of signers) {
    const expected = (await sign(data)).replace(/\//g, '_').replace(/\+/g, '-').replace(/=+$/, '')
    if (timingSafeEqual(signature, expected)) return true
  }
  return false
}

/** The secrets option as a non-empty list, or a startup error naming it. */
export function secretList(pkg: string, option: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((s) => typeof s === 'string' && s.length > 0)
  ) {
    throw new SessionConfigError(pkg, option, '%s must be a non-empty string or a non-empty list of them')
  }
  return [...list]
}

/** `decodeURIComponent` that answers `null` for a missing value or malformed escapes instead of throwing. */
export function decodeCookieValue(raw: string | null): string | null {
  if (raw === null) return null
  try {
    return decodeURIComponent(raw)
  } catch {
    return null
  }
}

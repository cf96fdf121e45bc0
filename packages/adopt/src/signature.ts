import { SessionConfigError } from '@sessionbridge/core'
import {
  type HmacHash,
  hmacKey,
  type NativeCrypto,
  nativeModules,
  timingSafeEqual,
} from '@sessionbridge/core/adapter'

/** Base64 HMACs of a value, one per secret (core's `hmacKey`). */
export type HmacSigners = ReadonlyArray<(value: string) => string | Promise<string>>

/**
 * One signer per secret (`SHA-256` for cookie-signature, `SHA-1` for keygrip), answering standard
 * base64. `native`: Node's `crypto` (the default where the runtime has it, synchronous), or `null`
 * for Web Crypto.
 */
export function hmacSigners(
  secrets: readonly string[],
  hash: HmacHash,
  native: NativeCrypto | null = nativeModules?.crypto ?? null,
): HmacSigners {
  return secrets.map((secret) => {
    const key = hmacKey(hash, secret, native)
    return (value: string) => key.text(value, 'base64')
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

import { timingSafeEqual } from './compare.ts'
import { SessionConfigError } from './errors.ts'
import { base64UrlEncode } from './ids.ts'

const encoder = new TextEncoder()

/** The result of checking a signed value: whether it is valid, and whether it should be re-signed. */
export interface UnsignResult {
  /** The unsigned value, or `null` when no secret's signature matched. */
  value: string | null
  /** True when an older secret matched: re-issue the value signed with the current one. */
  renew: boolean
}

/** Signs values with HMAC-SHA256 (Web Crypto) under rotating secrets. */
export interface Signer {
  /** `value.signature`, signed with the first (current) secret. */
  sign(value: string): Promise<string>
  /** Checks `value.signature` against every secret; bad input gives `{ value: null }`, never a throw. */
  unsign(signed: string): Promise<UnsignResult>
  /**
   * What `unsign(signed)` answered before, synchronously, while it is remembered (successes only);
   * `undefined` otherwise: then call `unsign`. Lets a returning visitor's request start without a
   * promise.
   */
  verified?(signed: string): UnsignResult | undefined
  /**
   * What `sign(value)` answered before, synchronously, while it is remembered; `undefined`
   * otherwise: then call `sign`. Lets a commit write its cookie without a promise.
   */
  signed?(value: string): string | undefined
}

/**
 * A signer over `secrets`: the first signs, all verify. Rotate by putting the new secret first
 * and keeping the old ones until their cookies have expired.
 */
export function createSigner(secrets: readonly string[], pkg = 'core', cacheSize = 10_000): Signer {
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new SessionConfigError(pkg, 'secrets', '%s must be a non-empty array of strings')
  }
  for (const s of secrets) {
    if (typeof s !== 'string' || s.length < 16) {
      throw new SessionConfigError(
        pkg,
        'secrets',
        'every entry of %s must be a string of 16 characters or more',
      )
    }
  }
  const keys = secrets.map((s) =>
    crypto.subtle.importKey('raw', encoder.encode(s), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
  )
  const mac = async (key: Promise<CryptoKey>, value: string) =>
    base64UrlEncode(new Uint8Array(await crypto.subtle.sign('HMAC', await key, encoder.encode(value))))
  // Web Crypto's HMAC is asynchronous and costs tens of microseconds; a returning visitor presents the
  // same signed cookie many times. Signing is deterministic, so remembering verified pairs is safe.
  // Only successes are cached, so forged cookies cannot fill the cache.
  const verified = new Map<string, UnsignResult>()
  const signatures = new Map<string, string>()
  const remember = <V>(cache: Map<string, V>, key: string, value: V) => {
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!)
    cache.set(key, value)
  }

  return {
    async sign(value) {
      let result = signatures.get(value)
      if (result === undefined) {
        result = `${value}.${await mac(keys[0]!, value)}`
        if (cacheSize > 0) remember(signatures, value, result)
      }
      return result
    },
    verified(signed) {
      return verified.get(signed)
    },
    signed(value) {
      return signatures.get(value)
    },
    async unsign(signed) {
      const hit = verified.get(signed)
      if (hit) return hit
      const dot = typeof signed === 'string' ? signed.lastIndexOf('.') : -1
      // A SHA-256 signature in unpadded base64url is exactly 43 characters.
      if (dot <= 0 || signed.length - dot - 1 !== 43) return { value: null, renew: false }
      const value = signed.slice(0, dot)
      const signature = signed.slice(dot + 1)
      // Check every secret, even after a match, so timing does not reveal which one matched.
      let matched = -1
      for (let i = 0; i < keys.length; i++) {
        if (timingSafeEqual(await mac(keys[i]!, value), signature) && matched === -1) matched = i
      }
      if (matched === -1) return { value: null, renew: false }
      const result = Object.freeze({ value, renew: matched > 0 })
      if (cacheSize > 0) remember(verified, signed, result)
      return result
    },
  }
}

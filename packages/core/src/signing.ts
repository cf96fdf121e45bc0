import { BoundedCache } from './bounded-cache.ts'
import { timingSafeEqual } from './compare.ts'
import { SessionConfigError } from './errors.ts'
import { hmacKey } from './hmac.ts'
import { internString } from './intern.ts'
import { type NativeCrypto, nativeModules } from './native.ts'
import { VerifiedTexts } from './verified-texts.ts'

/** The result of checking a signed value: whether it is valid, and whether it should be re-signed. */
export interface UnsignResult {
  /** The unsigned value, or `null` when no secret's signature matched. */
  value: string | null
  /** True when an older secret matched: re-issue the value signed with the current one. */
  renew: boolean
}

/** Signs values with HMAC-SHA256 under rotating secrets (Node's `crypto` where the runtime has it, else Web Crypto). */
export interface Signer {
  /** `value.signature`, signed with the first (current) secret. */
  sign(value: string): Promise<string>
  /** Checks `value.signature` against every secret; bad input gives `{ value: null }`, never a throw. */
  unsign(signed: string): Promise<UnsignResult>
  /**
   * What `unsign(signed)` answers, synchronously, when the signer can tell without a promise: it
   * remembers the answer, or the runtime computes HMACs synchronously (Node's `crypto`). Else
   * `undefined`: then call `unsign`. Lets a request start without a promise.
   */
  verified?(signed: string): UnsignResult | undefined
  /** The same for `sign(value)`: lets a commit write its cookie without a promise. */
  signed?(value: string): string | undefined
}

const NO_VALUE: UnsignResult = Object.freeze({ value: null, renew: false })

/** `[value, signature]` of `value.signature`, or `null` when it cannot carry a SHA-256 signature. */
function split(signed: string): [string, string] | null {
  const dot = typeof signed === 'string' ? signed.lastIndexOf('.') : -1
  // A SHA-256 signature in unpadded base64url is exactly 43 characters.
  if (dot <= 0 || signed.length - dot - 1 !== 43) return null
  return [signed.slice(0, dot), signed.slice(dot + 1)]
}

/** Throws `SessionConfigError` unless `secrets` is a non-empty array of strings of 16+ characters. */
function checkSecrets(secrets: readonly string[], pkg: string): void {
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
}

/** HMAC-SHA256 of `value` under `secrets[i]`, unpadded base64url: a string through Node's crypto, a promise through Web Crypto. */
type Mac = (i: number, value: string) => string | Promise<string>

/**
 * The index of the first secret whose signature matches, or -1. Checks every secret, even after a
 * match, so timing does not reveal which one matched.
 */
function firstMatch(signature: string, macs: readonly string[]): number {
  let matched = -1
  for (let i = 0; i < macs.length; i++) {
    if (timingSafeEqual(macs[i]!, signature) && matched === -1) matched = i
  }
  return matched
}

/**
 * A signer over `secrets`: the first signs, all verify. Rotate by putting the new secret first
 * and keeping the old ones until their cookies have expired. `native`: Node's `crypto` (the
 * default where the runtime has it), which answers `verified` and `signed` at once; `null` signs
 * through Web Crypto, asynchronously.
 */
export function createSigner(
  secrets: readonly string[],
  pkg = 'core',
  cacheSize = 10_000,
  native: NativeCrypto | null = nativeModules?.crypto ?? null,
): Signer {
  checkSecrets(secrets, pkg)
  const keys = secrets.map((secret) => hmacKey('SHA-256', secret, native))
  const mac: Mac = (i, value) => keys[i]!.text(value, 'base64url')
  const syncMac = keys[0]!.sync ? (mac as (i: number, value: string) => string) : null
  // A returning visitor presents the same signed cookie many times, and signing is deterministic, so
  // remembering verified pairs is safe; a hit costs less than even a synchronous HMAC. Only
  // successes are remembered, so forged cookies cannot fill the cache.
  const verified = new VerifiedTexts<UnsignResult>(cacheSize)
  const signatures = new BoundedCache<string, string>(cacheSize)
  const settle = (signed: string, value: string, matched: number): UnsignResult => {
    if (matched === -1) return NO_VALUE
    // The id every later request finds here goes on to the store's lookups (memory: a Map).
    const result = Object.freeze({ value: internString(value), renew: matched > 0 })
    verified.set(signed, result)
    return result
  }
  const signNow = (value: string, signature: string) => {
    const result = `${value}.${signature}`
    signatures.set(value, result)
    return result
  }

  return {
    async sign(value) {
      return signatures.get(value) ?? signNow(value, await mac(0, value))
    },
    verified(signed) {
      const hit = verified.get(signed)
      if (hit || !syncMac) return hit
      const parts = split(signed)
      if (parts === null) return NO_VALUE
      return settle(
        signed,
        parts[0],
        firstMatch(
          parts[1],
          secrets.map((_, i) => syncMac(i, parts[0])),
        ),
      )
    },
    signed(value) {
      return signatures.get(value) ?? (syncMac ? signNow(value, syncMac(0, value)) : undefined)
    },
    async unsign(signed) {
      const hit = verified.get(signed)
      if (hit) return hit
      const parts = split(signed)
      if (parts === null) return NO_VALUE
      const macs = await Promise.all(secrets.map((_, i) => mac(i, parts[0])))
      return settle(signed, parts[0], firstMatch(parts[1], macs))
    },
  }
}

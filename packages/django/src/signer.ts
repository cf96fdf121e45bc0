import { SessionConfigError } from '@sessionbridge/core'
import { base64UrlEncode, wallClock } from '@sessionbridge/core/adapter'
import { base62Decode, base62Encode } from './base62.ts'
import { constantTimeEqual, type DjangoHashAlgorithm, saltedHmac } from './crypto.ts'

const PKG = 'django'
// Django refuses separators made only of base64url/digit characters (`_SEP_UNSAFE`).
const UNSAFE_SEP = /^[A-z0-9\-_=]*$/

/** Options of `Signer` and `TimestampSigner`. */
export interface SignerOptions {
  /** Django's `SECRET_KEY`: signs and verifies. */
  key: string
  /**
   * Older secrets that still verify (Django 4.1+'s `SECRET_KEY_FALLBACKS`). Values are always
   * signed with `key`. @default []
   */
  fallbackKeys?: readonly string[]
  /** Namespace of the signature. @default 'django.core.signing.Signer' (resp. 'django.core.signing.TimestampSigner') */
  salt?: string
  /** Separator between value and signature. @default ':' */
  sep?: string
  /** Hash of new signatures. @default 'sha256' */
  algorithm?: DjangoHashAlgorithm
  /** Also accept HMAC-SHA1 signatures, as Django 3.2 does (4.0 dropped them). @default true */
  acceptSha1?: boolean
  /** Clock for timestamps, epoch ms. @default wallClock */
  now?: () => number
}

/** What checking a timestamped value found. */
export type TimestampCheck =
  | { status: 'valid'; value: string; timestamp: number }
  | { status: 'bad-signature' }
  | { status: 'expired'; value: string; timestamp: number; age: number }

interface ResolvedSigner {
  keys: readonly string[]
  salt: string
  sep: string
  algorithm: DjangoHashAlgorithm
  acceptSha1: boolean
  now: () => number
}

function resolve(options: SignerOptions, defaultSalt: string): ResolvedSigner {
  if (!options || typeof options.key !== 'string' || options.key.length === 0) {
    throw new SessionConfigError(PKG, 'key', "%s must be a non-empty string (Django's SECRET_KEY)")
  }
  const fallbackKeys = options.fallbackKeys ?? []
  if (!Array.isArray(fallbackKeys) || fallbackKeys.some((k) => typeof k !== 'string' || k.length === 0)) {
    throw new SessionConfigError(PKG, 'fallbackKeys', '%s must be an array of non-empty strings')
  }
  const sep = options.sep ?? ':'
  if (UNSAFE_SEP.test(sep)) {
    throw new SessionConfigError(PKG, 'sep', '%s cannot be empty or consist only of A-z0-9-_=')
  }
  const algorithm = options.algorithm ?? 'sha256'
  if (algorithm !== 'sha256' && algorithm !== 'sha1') {
    throw new SessionConfigError(PKG, 'algorithm', '%s must be "sha256" or "sha1"')
  }
  return Object.freeze({
    keys: Object.freeze([options.key, ...fallbackKeys]),
    salt: options.salt ?? defaultSalt,
    sep,
    algorithm,
    acceptSha1: options.acceptSha1 ?? true,
    now: options.now ?? wallClock,
  })
}

/** Django's `django.core.signing.Signer`: `value:signature`, HMAC keyed by `salted_hmac(salt + 'signer')`. */
export class Signer {
  protected readonly resolved: ResolvedSigner

  constructor(options: SignerOptions, defaultSalt = 'django.core.signing.Signer') {
    this.resolved = resolve(options, defaultSalt)
  }

  /** The base64url signature of `value` under `key` (the current secret) or another given secret. */
  async signature(
    value: string,
    key = this.resolved.keys[0]!,
    algorithm = this.resolved.algorithm,
  ): Promise<string> {
    return base64UrlEncode(await saltedHmac(`${this.resolved.salt}signer`, value, key, algorithm))
  }

  /** `value` + sep + signature, signed with the current secret. */
  async sign(value: string): Promise<string> {
    return `${value}${this.resolved.sep}${await this.signature(value)}`
  }

  /**
   * The value when the signature matches any secret (current first, then the fallbacks; SHA-256,
   * then SHA-1 when accepted), else `null`. Each comparison is constant-time; stopping at the first
   * match only tells how many candidates were tried, which holds no secret.
   */
  async unsign(signed: string): Promise<string | null> {
    const { sep, keys, algorithm, acceptSha1 } = this.resolved
    if (typeof signed !== 'string') return null
    const at = signed.lastIndexOf(sep)
    if (at < 0) return null
    const value = signed.slice(0, at)
    const signature = signed.slice(at + sep.length)
    const algorithms: DjangoHashAlgorithm[] =
      acceptSha1 && algorithm !== 'sha1' ? [algorithm, 'sha1'] : [algorithm]
    for (const alg of algorithms) {
      for (const key of keys) {
        if (constantTimeEqual(signature, await this.signature(value, key, alg))) return value
      }
    }
    return null
  }
}

/** Django's `TimestampSigner`: `value:base62(seconds):signature`, the timestamp signed too. */
export class TimestampSigner extends Signer {
  constructor(options: SignerOptions) {
    super(options, 'django.core.signing.TimestampSigner')
  }

  /** Current time as Django writes it: base62 of whole seconds. */
  timestamp(): string {
    return base62Encode(Math.floor(this.resolved.now() / 1000))
  }

  override async sign(value: string): Promise<string> {
    return super.sign(`${value}${this.resolved.sep}${this.timestamp()}`)
  }

  /** Checks the signature, then the age when `maxAge` (seconds) is given. */
  async check(signed: string, options: { maxAge?: number } = {}): Promise<TimestampCheck> {
    const inner = await super.unsign(signed)
    if (inner === null) return { status: 'bad-signature' }
    const at = inner.lastIndexOf(this.resolved.sep)
    const timestamp = at < 0 ? null : base62Decode(inner.slice(at + this.resolved.sep.length))
    // Validly signed but without a readable timestamp: only a foreign signer could make this.
    if (at < 0 || timestamp === null) return { status: 'bad-signature' }
    const value = inner.slice(0, at)
    if (options.maxAge !== undefined) {
      const age = this.resolved.now() / 1000 - timestamp
      if (age > options.maxAge) return { status: 'expired', value, timestamp, age }
    }
    return { status: 'valid', value, timestamp }
  }

  /** The value, or `null` when the signature is bad or (with `maxAge`) the value is too old. */
  override async unsign(signed: string, options: { maxAge?: number } = {}): Promise<string | null> {
    const result = await this.check(signed, options)
    return result.status === 'valid' ? result.value : null
  }
}

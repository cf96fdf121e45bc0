import { SessionConfigError } from '@sessionbridge/core'
import { randomString } from '@sessionbridge/core/adapter'
import { base64Encode, constantTimeEqual, utf8 } from './crypto.ts'
import {
  DjangoHasherUnavailableError,
  type OptionalHasher,
  type PasswordVerifier,
} from './hashers-optional.ts'
import { type DjangoVersion, djangoTraits } from './versions.ts'

const PKG = 'django'
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
/** Django 3.2's `PBKDF2PasswordHasher.iterations` (the default `djangoVersion`'s). */
export const DJANGO_PBKDF2_ITERATIONS = 260_000
/** Django's `UNUSABLE_PASSWORD_PREFIX`. */
export const UNUSABLE_PASSWORD_PREFIX = '!'

/** The hashers of Django's default `PASSWORD_HASHERS` (scrypt: Django 4.0+). */
export type PasswordAlgorithm = 'pbkdf2_sha256' | 'pbkdf2_sha1' | 'argon2' | 'bcrypt_sha256' | 'scrypt'
const ALL_ALGORITHMS: readonly PasswordAlgorithm[] = [
  'pbkdf2_sha256',
  'pbkdf2_sha1',
  'argon2',
  'bcrypt_sha256',
  'scrypt',
]
const PBKDF2_HASH = { pbkdf2_sha256: 'SHA-256', pbkdf2_sha1: 'SHA-1' } as const
type Pbkdf2Algorithm = keyof typeof PBKDF2_HASH

/** Options of `passwordHashers`. */
export interface PasswordHashersOptions {
  /**
   * The Django beside this app: its PBKDF2 work factor is the one Node writes, and its default
   * `PASSWORD_HASHERS` are the ones accepted (scrypt from 4.0). @default '3.2'
   */
  djangoVersion?: DjangoVersion
  /** Hasher of new hashes (the first of Django's `PASSWORD_HASHERS`). @default 'pbkdf2_sha256' */
  algorithm?: Pbkdf2Algorithm
  /**
   * PBKDF2 iterations of new hashes (a custom hasher's `iterations`). Hashes with fewer are upgraded
   * on login; hashes with more are never rewritten down. @default djangoVersion's (3.2: 260000,
   * 4.2: 600000, 5.2: 1000000)
   */
  iterations?: number
  /** Algorithms that verify at all (Django's `PASSWORD_HASHERS`). @default djangoVersion's defaults */
  accepted?: readonly PasswordAlgorithm[]
  /**
   * Verifiers of argon2 / bcrypt_sha256 / scrypt hashes: `argon2Verifier` from
   * `@sessionbridge/django/argon2`, `bcryptSha256Verifier` from `/bcrypt`, `scryptVerifier` from
   * `/scrypt`, or your own (e.g. a WASM build on an edge runtime). Checking such a hash without one
   * throws `DjangoHasherUnavailableError`. @default {}
   */
  verifiers?: Partial<Record<OptionalHasher, PasswordVerifier>>
}

/** What checking a password found. */
export interface PasswordCheck {
  valid: boolean
  /**
   * Valid, and weaker than what this instance writes (another hasher, fewer iterations, a short
   * salt): re-hash it now. A hash with more iterations than configured is never rewritten down.
   */
  mustUpdate: boolean
  /** Why the check could not even run. Django raises for `malformed`; here it is simply `false`. */
  problem?: 'unusable' | 'unknown-algorithm' | 'malformed'
}

/** Django's password hashing (`make_password`, `check_password`, `identify_hasher`). */
export interface PasswordHashers {
  readonly algorithm: Pbkdf2Algorithm
  readonly iterations: number
  readonly djangoVersion: DjangoVersion
  /** `make_password(password)`; `null` gives an unusable password (`!` + 40 random characters). */
  make(password: string | null, salt?: string): Promise<string>
  /** `check_password(password, encoded)`, with the same timing hardening. Never throws for bad hashes. */
  check(password: string, encoded: string | null | undefined): Promise<PasswordCheck>
  /** The algorithm of an encoded hash (text before the first `$`), if it is one this instance accepts. */
  identify(encoded: string): PasswordAlgorithm | null
  /** Spends the time of hashing one password with the current settings (unknown users, #20760). */
  dummy(): Promise<void>
}

async function pbkdf2(algorithm: Pbkdf2Algorithm, password: string, salt: string, iterations: number) {
  const key = await crypto.subtle.importKey('raw', utf8(password), 'PBKDF2', false, ['deriveBits'])
  const hash = PBKDF2_HASH[algorithm]
  const bits = hash === 'SHA-256' ? 256 : 160
  const dk = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash, salt: utf8(salt), iterations }, key, bits)
  return base64Encode(new Uint8Array(dk))
}

interface Pbkdf2Parts {
  algorithm: Pbkdf2Algorithm
  iterations: number
  salt: string
}

/** `PBKDF2PasswordHasher.decode`: `null` where Django would raise. */
function decodePbkdf2(encoded: string): Pbkdf2Parts | null {
  const parts = encoded.split('$')
  if (parts.length < 4) return null
  const [algorithm, iterations, salt] = parts as [string, string, string]
  if (!(algorithm in PBKDF2_HASH) || salt === '' || !/^\s*[+-]?\d+\s*$/.test(iterations)) return null
  const n = Number(iterations.trim())
  if (!Number.isSafeInteger(n) || n < 0) return null
  return { algorithm: algorithm as Pbkdf2Algorithm, iterations: n, salt }
}

/** `must_update_salt`: fewer than 128 bits of entropy over Django's 62-character alphabet. */
const saltTooShort = (salt: string) => salt.length * Math.log2(62) < 128

/** Django's hashers with the given settings. Throws `SessionConfigError` for bad options. */
export function passwordHashers(options: PasswordHashersOptions = {}): PasswordHashers {
  const traits = djangoTraits(options.djangoVersion)
  const algorithm = options.algorithm ?? 'pbkdf2_sha256'
  if (!(algorithm in PBKDF2_HASH)) {
    throw new SessionConfigError(PKG, 'algorithm', '%s must be "pbkdf2_sha256" or "pbkdf2_sha1"')
  }
  const iterations = options.iterations ?? traits.pbkdf2Iterations
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new SessionConfigError(PKG, 'iterations', '%s must be a positive whole number')
  }
  const accepted = new Set(options.accepted ?? ALL_ALGORITHMS.filter((a) => a !== 'scrypt' || traits.scrypt))
  for (const a of accepted) {
    if (!ALL_ALGORITHMS.includes(a))
      throw new SessionConfigError(PKG, 'accepted', `%s names an unknown hasher "${a}"`)
  }
  const verifiers = { ...options.verifiers }
  for (const [name, verifier] of Object.entries(verifiers)) {
    if (typeof verifier !== 'function')
      throw new SessionConfigError(PKG, `verifiers.${name}`, '%s must be a function (password, encoded)')
  }

  const make = async (password: string | null, salt = randomString(22, ALNUM)): Promise<string> => {
    if (password === null) return UNUSABLE_PASSWORD_PREFIX + randomString(40, ALNUM)
    if (salt === '' || salt.includes('$')) throw new RangeError('a salt must be non-empty and hold no "$"')
    return `${algorithm}$${iterations}$${salt}$${await pbkdf2(algorithm, password, salt, iterations)}`
  }
  const dummy = async () => {
    await make(randomString(40, ALNUM))
  }
  const identify = (encoded: string): PasswordAlgorithm | null => {
    const name = encoded.split('$', 1)[0] as PasswordAlgorithm
    return accepted.has(name) ? name : null
  }

  async function verifyPbkdf2(password: string, encoded: string): Promise<boolean | null> {
    const parts = decodePbkdf2(encoded)
    if (!parts) return null
    // Django: `iterations or self.iterations`, then compares the re-encoded string as a whole.
    const n = parts.iterations || iterations
    const again = `${parts.algorithm}$${n}$${parts.salt}$${await pbkdf2(parts.algorithm, password, parts.salt, n)}`
    return constantTimeEqual(encoded, again)
  }

  async function verify(name: PasswordAlgorithm, password: string, encoded: string): Promise<boolean | null> {
    try {
      if (name === 'pbkdf2_sha256' || name === 'pbkdf2_sha1') return await verifyPbkdf2(password, encoded)
      const verifier = verifiers[name]
      if (!verifier) throw new DjangoHasherUnavailableError(name)
      return await verifier(password, encoded)
    } catch (error) {
      if (error instanceof SessionConfigError) throw error
      return null
    }
  }

  return Object.freeze({
    algorithm,
    iterations,
    djangoVersion: traits.version,
    make,
    identify,
    dummy,
    async check(password: string, encoded: string | null | undefined): Promise<PasswordCheck> {
      if (
        typeof password !== 'string' ||
        typeof encoded !== 'string' ||
        encoded.startsWith(UNUSABLE_PASSWORD_PREFIX)
      ) {
        await dummy()
        return { valid: false, mustUpdate: false, problem: 'unusable' }
      }
      const name = identify(encoded)
      if (name === null) {
        await dummy()
        return { valid: false, mustUpdate: false, problem: 'unknown-algorithm' }
      }
      const hasherChanged = name !== algorithm
      const parts = hasherChanged ? null : decodePbkdf2(encoded)
      // Never weaker: Django rewrites any other count (`!=`); here only a lower one is upgraded, so a
      // newer Django's stronger hash is never rewritten down (which would log the user out everywhere).
      const mustUpdate =
        hasherChanged || (parts !== null && (parts.iterations < iterations || saltTooShort(parts.salt)))
      const valid = await verify(name, password, encoded)
      if (valid === null) {
        await dummy()
        return { valid: false, mustUpdate: false, problem: 'malformed' }
      }
      // harden_runtime: a wrong password against an older, cheaper hash costs the current count.
      if (!valid && !hasherChanged && mustUpdate && parts && iterations > parts.iterations) {
        await pbkdf2(algorithm, password, parts.salt, iterations - parts.iterations)
      }
      return { valid, mustUpdate: valid && mustUpdate }
    },
  })
}

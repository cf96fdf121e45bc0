import { SessionConfigError } from '@sessionbridge/core'
import { base64Encode, constantTimeEqual, toHex, utf8 } from './crypto.ts'

/** The hashers that need an optional dependency. */
export type OptionalHasher = 'argon2' | 'bcrypt_sha256' | 'scrypt'

/** The package each optional hasher is verified with. */
export const OPTIONAL_HASHER_PACKAGES: Readonly<Record<OptionalHasher, string>> = Object.freeze({
  argon2: '@node-rs/argon2',
  bcrypt_sha256: '@node-rs/bcrypt',
  scrypt: '@noble/hashes',
})

/** A stored hash needs a hasher whose library is not installed (or not loadable on this runtime). */
export class DjangoHasherUnavailableError extends SessionConfigError {
  override name = 'DjangoHasherUnavailableError'
  /** The Django algorithm name, e.g. `argon2`. */
  readonly algorithm: OptionalHasher
  constructor(algorithm: OptionalHasher, cause: unknown) {
    const pkg = OPTIONAL_HASHER_PACKAGES[algorithm]
    super(
      'django',
      'verifiers',
      `the "${algorithm}" password hasher needs the optional dependency ${pkg} (install it, or pass verifiers.${algorithm})`,
    )
    this.algorithm = algorithm
    this.cause = cause
  }
}

type Verifier = (password: string, encoded: string) => Promise<boolean>

async function argon2Verifier(): Promise<Verifier> {
  const { verify } = await import('@node-rs/argon2')
  // Django stores 'argon2' + argon2-cffi's PHC string ('$argon2id$v=19$...').
  return (password, encoded) => verify(encoded.slice('argon2'.length), password)
}

async function bcryptVerifier(): Promise<Verifier> {
  const { verify } = await import('@node-rs/bcrypt')
  return async (password, encoded) => {
    const data = encoded.slice('bcrypt_sha256$'.length)
    if (!/^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(data)) throw new Error('malformed bcrypt hash')
    const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(password))))
    return verify(digest, data)
  }
}

// OpenSSL's default scrypt memory limit, which Django's `maxmem=0` means.
const SCRYPT_MAXMEM = 32 * 1024 * 1024 + 65536

async function scryptVerifier(): Promise<Verifier> {
  const { scryptAsync } = await import('@noble/hashes/scrypt.js')
  return async (password, encoded) => {
    // ScryptPasswordHasher (Django 4.0+): scrypt$<n>$<salt>$<r>$<p>$<b64 hash of 64 bytes>
    const parts = encoded.split('$')
    if (parts.length !== 6) throw new Error('malformed scrypt hash')
    const [, n, salt, r, p] = parts as [string, string, string, string, string, string]
    const nums = [n, r, p].map((x) => (/^\d+$/.test(x) ? Number(x) : Number.NaN))
    const [N, R, P] = nums as [number, number, number]
    if (!nums.every((x) => Number.isSafeInteger(x) && x > 0) || salt === '')
      throw new Error('malformed scrypt hash')
    const dk = await scryptAsync(utf8(password), utf8(salt), {
      N,
      r: R,
      p: P,
      dkLen: 64,
      maxmem: SCRYPT_MAXMEM,
    })
    return constantTimeEqual(encoded, `scrypt$${N}$${salt}$${R}$${P}$${base64Encode(dk)}`)
  }
}

const loaders: Record<OptionalHasher, () => Promise<Verifier>> = {
  argon2: argon2Verifier,
  bcrypt_sha256: bcryptVerifier,
  scrypt: scryptVerifier,
}
const loaded = new Map<OptionalHasher, Promise<Verifier>>()

/** The verifier of an optional hasher, loading its library once; throws `DjangoHasherUnavailableError`. */
export function loadVerifier(algorithm: OptionalHasher): Promise<Verifier> {
  let verifier = loaded.get(algorithm)
  if (!verifier) {
    verifier = loaders[algorithm]().catch((error: unknown) => {
      loaded.delete(algorithm)
      throw new DjangoHasherUnavailableError(algorithm, error)
    })
    loaded.set(algorithm, verifier)
  }
  return verifier
}

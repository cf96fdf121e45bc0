import { SessionConfigError } from '@sessionbridge/core'

/** The hashers that need an optional dependency. */
export type OptionalHasher = 'argon2' | 'bcrypt_sha256' | 'scrypt'

/** Checks a password against an encoded hash of one optional hasher; throws for a malformed hash. */
export type PasswordVerifier = (password: string, encoded: string) => Promise<boolean>

/**
 * Where each optional hasher's verifier lives: a subpath export (so the main entry imports no
 * native package and bundles for edge runtimes) and the package it needs.
 */
export const OPTIONAL_HASHER_PACKAGES: Readonly<
  Record<OptionalHasher, { readonly module: string; readonly exportName: string; readonly needs: string }>
> = Object.freeze({
  argon2: { module: '@sessionbridge/django/argon2', exportName: 'argon2Verifier', needs: '@node-rs/argon2' },
  bcrypt_sha256: {
    module: '@sessionbridge/django/bcrypt',
    exportName: 'bcryptSha256Verifier',
    needs: '@node-rs/bcrypt',
  },
  scrypt: { module: '@sessionbridge/django/scrypt', exportName: 'scryptVerifier', needs: '@noble/hashes' },
})

/** A stored hash needs a hasher for which no verifier was configured. */
export class DjangoHasherUnavailableError extends SessionConfigError {
  override name = 'DjangoHasherUnavailableError'
  /** The Django algorithm name, e.g. `argon2`. */
  readonly algorithm: OptionalHasher
  constructor(algorithm: OptionalHasher, cause?: unknown) {
    const { module, exportName, needs } = OPTIONAL_HASHER_PACKAGES[algorithm]
    super(
      'django',
      `verifiers.${algorithm}`,
      `the "${algorithm}" password hasher needs %s: pass { ${algorithm}: ${exportName} } from "${module}" (which needs ${needs}), or your own verifier`,
    )
    this.algorithm = algorithm
    if (cause !== undefined) this.cause = cause
  }
}

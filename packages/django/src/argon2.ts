/**
 * `@sessionbridge/django/argon2`: verifies Django's `Argon2PasswordHasher` hashes with
 * `@node-rs/argon2` (a native package, hence a subpath of its own). Pass it as
 * `passwordHashers({ verifiers: { argon2: argon2Verifier } })` (or the same option of `djangoUsers`).
 */
import { verify } from '@node-rs/argon2'
import type { PasswordVerifier } from './hashers-optional.ts'

/** Django stores `'argon2'` + argon2-cffi's PHC string (`$argon2id$v=19$...`). */
export const argon2Verifier: PasswordVerifier = (password, encoded) =>
  verify(encoded.slice('argon2'.length), password)

/**
 * `@sessionbridge/django/bcrypt`: verifies Django's `BCryptSHA256PasswordHasher` hashes with
 * `@node-rs/bcrypt` (a native package, hence a subpath of its own). Pass it as
 * `passwordHashers({ verifiers: { bcrypt_sha256: bcryptSha256Verifier } })`.
 */
import { verify } from '@node-rs/bcrypt'
import { toHex, utf8 } from './crypto.ts'
import type { PasswordVerifier } from './hashers-optional.ts'

const BCRYPT = /^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/

/** `bcrypt_sha256$` + bcrypt of the hex SHA-256 of the password. */
export const bcryptSha256Verifier: PasswordVerifier = async (password, encoded) => {
  const data = encoded.slice('bcrypt_sha256$'.length)
  if (!BCRYPT.test(data)) throw new Error('malformed bcrypt hash')
  const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(password))))
  return verify(digest, data)
}

/**
 * `@sessionbridge/django/scrypt`: verifies Django 4.0+'s `ScryptPasswordHasher` hashes with
 * `@noble/hashes` (pure JS). Pass it as `passwordHashers({ verifiers: { scrypt: scryptVerifier } })`.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { base64Encode, constantTimeEqual, utf8 } from './crypto.ts'
import type { PasswordVerifier } from './hashers-optional.ts'

// OpenSSL's default scrypt memory limit, which Django's `maxmem=0` means.
const SCRYPT_MAXMEM = 32 * 1024 * 1024 + 65536

/** `scrypt$<n>$<salt>$<r>$<p>$<base64 of 64 bytes>`, compared as a whole string as Django does. */
export const scryptVerifier: PasswordVerifier = async (password, encoded) => {
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

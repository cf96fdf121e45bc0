import { randomBytes } from 'node:crypto'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
// 62 does not divide 256: bytes at or above 248 are dropped so every character is equally likely.
const LIMIT = 256 - (256 % ALPHABET.length)

/**
 * A session token: 64 characters of [A-Za-z0-9] from the CSPRNG (381 bits), the original's format
 * without its guessable parts (Math.random and the creation time).
 */
export function createToken(): string {
  let token = ''
  while (token.length < 64) {
    for (const byte of randomBytes(80)) {
      if (byte < LIMIT) token += ALPHABET[byte % ALPHABET.length]
      if (token.length === 64) break
    }
  }
  return token
}

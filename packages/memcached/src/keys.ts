import { SessionConfigError } from '@sessionbridge/core'

/** memcached's limit on key length, in bytes. */
export const MAX_KEY_BYTES = 250

/** memcached's largest relative expiry; larger values are read as absolute unix times. */
export const MAX_RELATIVE_EXPTIME = 60 * 60 * 24 * 30

/**
 * True when `key` can be written into a meta command as is: 1 to 250 bytes of printable ASCII
 * (0x21 to 0x7e). Spaces, CR, LF and other control characters would let a key end the command
 * early and smuggle in another, so they are refused before anything reaches the socket. Non-ASCII
 * is refused too: memcached would accept it, but no id format sessionbridge ships needs it.
 */
export function isValidKey(key: unknown): key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_BYTES) return false
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i)
    if (code < 0x21 || code > 0x7e) return false
  }
  return true
}

/**
 * Checks a key prefix at startup: printable ASCII, and short enough that `idLength` more
 * characters still fit in a key.
 */
export function checkPrefix(pkg: string, option: string, prefix: unknown, idLength: number): string {
  if (typeof prefix !== 'string' || (prefix !== '' && !isValidKey(prefix))) {
    throw new SessionConfigError(
      pkg,
      option,
      '%s must be printable ASCII without spaces or control characters',
    )
  }
  if (prefix.length + idLength > MAX_KEY_BYTES) {
    throw new SessionConfigError(
      pkg,
      option,
      `%s leaves no room for ids: keys are at most ${MAX_KEY_BYTES} bytes`,
    )
  }
  return prefix
}

/**
 * The exptime memcached expects for an expiry at `expiresAt` (epoch ms): seconds from now, or
 * an absolute unix time when that is more than 30 days away (memcached reads any number above
 * 30 days as a unix timestamp). Never below 1: a zero would mean "never expires".
 */
export function exptimeFor(expiresAt: number, now: number): number {
  const seconds = Math.max(1, Math.ceil((expiresAt - now) / 1000))
  if (seconds <= MAX_RELATIVE_EXPTIME) return seconds
  return Math.ceil(expiresAt / 1000)
}

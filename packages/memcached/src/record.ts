import { jsonText } from '@sessionbridge/core/adapter'

/**
 * The value stored for a session: one header line, then the codec's text.
 *
 *     sb1 <user id as JSON: "42" or null>\n<codec output>
 *
 * The expiry is not in the value: memcached's own TTL is the single source of truth, read back
 * with `mg ... t` and moved with `mg ... T` (a touch needs no rewrite, so it never races a
 * merge). The user id rides in the header so `load()` returns it without decoding twice.
 */
const MAGIC = 'sb1 '
const MAX_HEADER_CHARS = 1024
const ANONYMOUS = `${MAGIC}null\n`

/** The parts of a stored session value. */
export interface StoredSession {
  userId: string | null
  /**
   * Where the codec's text starts in the stored value: the default codec reads it in place
   * (`parseJson`), others take `value.slice(payloadStart)`; a load slices nothing it does not read.
   */
  payloadStart: number
}

/** Builds the stored value from the codec's output. */
export function encodeStoredSession(userId: string | null, payload: string): string {
  return userId === null ? `${ANONYMOUS}${payload}` : `${MAGIC}${jsonText(userId)}\n${payload}`
}

/** Splits a stored value; `null` when it is not one of ours (foreign, truncated, tampered). */
export function decodeStoredSession(value: string): StoredSession | null {
  // An anonymous session's header, read without JSON.parse (a call of its own for four letters).
  if (value.startsWith(ANONYMOUS)) return { userId: null, payloadStart: ANONYMOUS.length }
  if (!value.startsWith(MAGIC)) return null
  const end = value.indexOf('\n')
  if (end < 0 || end > MAX_HEADER_CHARS) return null
  let userId: unknown
  try {
    userId = JSON.parse(value.slice(MAGIC.length, end))
  } catch {
    return null
  }
  if (userId !== null && typeof userId !== 'string') return null
  return { userId, payloadStart: end + 1 }
}

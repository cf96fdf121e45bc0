import { SessionBackendError, SessionConflictError } from '@sessionbridge/core'
import { isPlainObject, type UpdateOptions, type UpdateResult } from '@sessionbridge/core/adapter'
import type { Call } from './http.ts'
import { PKG } from './options.ts'
import type { RecordCodec } from './records.ts'
import { decodeValue, encodeValue } from './values.ts'

/** What `updateKey` needs from the backend. */
export interface UpdateContext {
  call: Call
  codec: RecordCodec
  app: string
  encodeValues: boolean
  /** The `newttl` query for a record expiring at `expiresAt`; none for `null` (a kept expiry). */
  ttlQuery(expiresAt: number | null): string
}

/** The value behind a stored JSON text (`null`: absent); a marked value that is not JSON throws. */
function storedValue(key: string, stored: string | null): unknown {
  if (stored === null) return undefined
  try {
    return decodeValue(JSON.parse(stored))
  } catch (error) {
    throw new SessionBackendError(PKG, 'update', `the stored value of "${key}" does not decode`, {
      cause: error,
    })
  }
}

/**
 * Read-modify-write of one key on the server's compare-and-set route: one read, then one
 * conditional write per attempt, conditional on the key's stored JSON text. A conflict answers
 * the current text, so a retry needs no second read: 2 round trips without contention.
 */
export async function updateKey(
  ctx: UpdateContext,
  id: string,
  key: string,
  fn: (current: unknown) => unknown,
  { expiresAt, maxAttempts, expiryKept }: UpdateOptions,
): Promise<UpdateResult | null> {
  const { call, codec, app, encodeValues } = ctx
  const read = await call('update', 'GET', `/${app}/get/${id}`)
  if (!read.found || typeof read.json.id !== 'string') return null
  // A session holding a value that does not decode is "gone" (and warned about), never rewritten.
  if (!codec.decodeSession(read.json, id)) return null
  const d = isPlainObject(read.json.d) ? read.json.d : {}
  // Our server stores what JSON.stringify wrote, so this is the stored text; if not, the first
  // attempt conflicts and answers the exact text.
  let expected = Object.hasOwn(d, key) ? JSON.stringify(d[key]) : null
  const ttl = ctx.ttlQuery(expiryKept ? null : expiresAt)
  for (let attempt = 1; ; attempt++) {
    const next = fn(storedValue(key, expected))
    const value = next === undefined ? null : encodeValue(key, next, encodeValues)
    const answer = await call('update', 'POST', `/${app}/update/${id}${ttl}`, {
      key,
      expect: expected,
      value,
    })
    const { json } = answer
    if (!answer.found || json.updated === undefined) return null // the session is gone
    if (json.updated === true) {
      const record = isPlainObject(json.session) ? codec.decodeSession(json.session, id) : null
      if (!record) return null
      return { value: record.data[key], data: record.data }
    }
    if (attempt >= maxAttempts) throw new SessionConflictError(PKG, key, attempt)
    expected = typeof json.current === 'string' ? json.current : null
  }
}

import { jsonCodec, plainData, type SessionData, type SessionRecord } from '@sessionbridge/core'
import { isPlainObject } from '@sessionbridge/core/adapter'
import type { RedisContext } from './io.ts'

// Session hash layout: data fields are `d:<key>`, bookkeeping fields `m:exp` (expiry, epoch ms),
// `m:uid` (`+<user id>` or `-` for an anonymous session), `m:idx` (see user-index.ts) and, while
// an update() holds it, `m:turn` and `m:line:<field>` (scripts.ts UPDATE); a reader skips fields it
// does not know.
export const DATA = 'd:'
export const EXPIRES = 'm:exp'
export const USER = 'm:uid'
export const INDEXED = 'm:idx'

export const uidMarker = (userId: string | null) => (userId === null ? '-' : `+${userId}`)
export const userOfMarker = (marker: unknown) =>
  typeof marker === 'string' && marker.startsWith('+') ? marker.slice(1) : null

/**
 * `JSON.stringify({ [key]: value })`, without making the one-key object (a computed key costs twice
 * the string work). A value JSON cannot hold (a function) gives `{}`, as the object would.
 */
const jsonField = (key: string, value: unknown): string => {
  const text = JSON.stringify(value)
  return text === undefined ? '{}' : `{${JSON.stringify(key)}:${text}}`
}

/** A decoded session hash: the record, plus the raw fields `update()` compares against. */
export interface DecodedHash extends SessionRecord {
  /** The raw stored text of each data field, by data key. */
  raw: Map<string, string>
  /** The index score recorded in the hash, `''` when none. */
  indexed: string
}

/** Encoding and decoding of the per-key fields of a session hash. */
export function hashCodec(ctx: RedisContext) {
  const { codec, logger, now } = ctx
  const json = codec === jsonCodec
  // The default codec is run inline: a load or save makes no promise per stored key.
  const encodeValue = (key: string, value: unknown): Promise<string> => codec.encode({ [key]: value })
  const encodeFields = async (values: Record<string, unknown>): Promise<string[]> => {
    const out: string[] = []
    for (const key of Object.keys(values)) {
      const value = values[key]
      if (value === undefined) continue
      out.push(`${DATA}${key}`, json ? jsonField(key, value) : await encodeValue(key, value))
    }
    return out
  }
  const parseJson = (stored: string): unknown => {
    try {
      return JSON.parse(stored)
    } catch {
      return null
    }
  }
  const warn = (id: string, why: string): null => {
    logger.warn(`[sessionbridge/redis] session ${id.slice(0, 6)}... ${why}; treating it as no session`)
    return null
  }
  /** The walk over an HGETALL reply, with each data value decoded by `decoded(stored, index)`. */
  const fromFields = (
    id: string,
    flat: unknown[],
    decoded: (stored: string, index: number) => unknown,
  ): DecodedHash | null => {
    const data: SessionData = plainData()
    const raw = new Map<string, string>()
    let expiresAt = Number.NaN
    let userId: string | null = null
    let hasUser = false
    let indexed = ''
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field: unknown = flat[i]
      const value: unknown = flat[i + 1]
      if (typeof field !== 'string' || typeof value !== 'string') return warn(id, 'has a non-text field')
      if (field === EXPIRES) expiresAt = Number(value)
      else if (field === INDEXED) indexed = value
      else if (field === USER) {
        hasUser = value === '-' || value.startsWith('+')
        userId = userOfMarker(value)
      } else if (field.startsWith(DATA)) {
        const key = field.slice(DATA.length)
        const object = decoded(value, i + 1)
        if (!isPlainObject(object)) return warn(id, `has an undecodable value for "${key}"`)
        // `plainData` inherits nothing: a plain store keeps a key named `__proto__` as data.
        if (Object.hasOwn(object, key)) data[key] = object[key]
        raw.set(key, value)
      }
    }
    if (!Number.isSafeInteger(expiresAt) || !hasUser) return warn(id, 'lacks its expiry or user field')
    if (expiresAt <= now()) return null
    return { data, expiresAt, userId, raw, indexed }
  }
  /**
   * The record of an HGETALL reply; `null` when missing, expired or undecodable (with a warning).
   * Synchronous with the default codec; another codec decodes every value first, then the same walk.
   */
  const decodeHash = (id: string, flat: unknown): DecodedHash | null | Promise<DecodedHash | null> => {
    if (!Array.isArray(flat) || flat.length === 0) return null
    if (json) return fromFields(id, flat, parseJson)
    const values = new Map<number, unknown>()
    const pending: Promise<unknown>[] = []
    for (let i = 1; i < flat.length; i += 2) {
      const field: unknown = flat[i - 1]
      const value: unknown = flat[i]
      if (typeof field === 'string' && field.startsWith(DATA) && typeof value === 'string') {
        // A codec that throws makes the value undecodable.
        pending.push(
          codec.decode(value).then(
            (v) => values.set(i, v),
            () => values.set(i, null),
          ),
        )
      }
    }
    return Promise.all(pending).then(() => fromFields(id, flat, (_, index) => values.get(index)))
  }
  return { encodeValue, encodeFields, decodeHash }
}

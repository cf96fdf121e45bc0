import { jsonCodec, plainData, type SessionData, type SessionRecord } from '@sessionbridge/core'
import { isPlainObject } from '@sessionbridge/core/adapter'
import type { RedisContext } from './io.ts'

// Session hash layout: data fields are `d:<key>`, bookkeeping fields `m:exp` (expiry, epoch ms),
// `m:uid` (`+<user id>` or `-` for an anonymous session) and `m:idx` (see user-index.ts).
export const DATA = 'd:'
export const EXPIRES = 'm:exp'
export const USER = 'm:uid'
export const INDEXED = 'm:idx'

export const uidMarker = (userId: string | null) => (userId === null ? '-' : `+${userId}`)
export const userOfMarker = (marker: unknown) =>
  typeof marker === 'string' && marker.startsWith('+') ? marker.slice(1) : null

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
  const encodeValue = (key: string, value: unknown): Promise<string> => codec.encode({ [key]: value })
  const encodeFields = async (values: Record<string, unknown>): Promise<string[]> => {
    const out: string[] = []
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue
      out.push(`${DATA}${key}`, await encodeValue(key, value))
    }
    return out
  }
  // The default codec is decoded inline: loads stay free of one promise per stored key.
  const decodeValue = (stored: string): unknown | Promise<unknown> => {
    if (codec !== jsonCodec) return codec.decode(stored).catch(() => null) // a codec that throws: undecodable
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
  /** The record of an HGETALL reply; `null` when missing, expired or undecodable (with a warning). */
  const decodeHash = async (id: string, flat: unknown): Promise<DecodedHash | null> => {
    if (!Array.isArray(flat) || flat.length === 0) return null
    const data: SessionData = plainData() // a field named `__proto__` stays data
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
        const pending = decodeValue(value)
        const decoded = pending instanceof Promise ? await pending : pending
        if (!isPlainObject(decoded)) return warn(id, `has an undecodable value for "${key}"`)
        if (Object.hasOwn(decoded, key)) {
          Object.defineProperty(data, key, {
            value: decoded[key],
            enumerable: true,
            writable: true,
            configurable: true,
          })
        }
        raw.set(key, value)
      }
    }
    if (!Number.isSafeInteger(expiresAt) || !hasUser) return warn(id, 'lacks its expiry or user field')
    if (expiresAt <= now()) return null
    return { data, expiresAt, userId, raw, indexed }
  }
  return { encodeValue, encodeFields, decodeHash }
}

import { jsonCodec, plainData, type SessionData, type SessionRecord } from '@sessionbridge/core'
import {
  countDigits,
  isPlainObject,
  jsonText,
  plainJsonString,
  wholeNumber,
} from '@sessionbridge/core/adapter'
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
 * the string work), and without stringifying a key JSON writes as is (`plain`, `plainJsonString`). A
 * value JSON cannot hold (a function) gives `{}`, as the object would.
 */
const jsonField = (key: string, value: unknown, plain = plainJsonString(key)): string => {
  const text = jsonText(value)
  if (text === undefined) return '{}'
  return plain ? `{"${key}":${text}}` : `{${JSON.stringify(key)}:${text}}`
}

/** The `raw` of a hash decoded for a load, which never reads it: nothing is written to it. */
const NO_RAW: ReadonlyMap<string, string> = new Map()

/** What `oneKeyValue` answers for a text it does not read itself: parse it whole. */
export const NOT_PLAIN: unique symbol = Symbol('sessionbridge.redis.notPlain')

/**
 * `JSON.parse(stored)[key]` for a field as `jsonField` writes it, `{"<key>":<value>}`, without
 * parsing the object (a parse per field cost more than the rest of a load): an integer is counted
 * out, any other value parsed alone. The same answer: when `key` needs no escaping, the text starts
 * with exactly that key and the rest before the last `}` parses as one value, the whole text is
 * that one-key object. Anything else (the key spelled with escapes, more keys, a space before the
 * colon, a value that does not parse): `NOT_PLAIN`.
 */
export function oneKeyValue(stored: string, key: string): unknown {
  const start = key.length + 4 // after `{"<key>":`
  const end = stored.length - 1 // the closing `}`
  if (
    end <= start ||
    stored.charCodeAt(0) !== 0x7b ||
    stored.charCodeAt(1) !== 0x22 ||
    stored.charCodeAt(start - 2) !== 0x22 ||
    stored.charCodeAt(start - 1) !== 0x3a ||
    stored.charCodeAt(end) !== 0x7d ||
    !stored.startsWith(key, 2) ||
    !plainJsonString(key)
  ) {
    return NOT_PLAIN
  }
  // Digits without a leading zero: JSON's integer, counted out.
  const first = stored.charCodeAt(start)
  if (first >= 0x31 && first <= 0x39) {
    const counted = countDigits(stored, start, end)
    if (!Number.isNaN(counted)) return counted
  }
  try {
    return JSON.parse(stored.slice(start, end))
  } catch {
    return NOT_PLAIN
  }
}

/** A decoded session hash: the record, plus the raw fields `update()` compares against. */
export interface DecodedHash extends SessionRecord {
  /** The raw stored text of each data field, by data key; empty unless asked for (`decodeHash`). */
  raw: ReadonlyMap<string, string>
  /** The index score recorded in the hash, `''` when none. */
  indexed: string
}

/** Encoding and decoding of the per-key fields of a session hash. */
export function hashCodec(ctx: RedisContext) {
  const { codec, logger, now } = ctx
  const json = codec === jsonCodec
  // The default codec is run inline: a load or save makes no promise per stored key.
  const encodeValue = (key: string, value: unknown): Promise<string> => codec.encode({ [key]: value })
  /** Appends `d:<key>`, value pairs to `out`: at once with the default codec, else a promise. */
  const encodeFields = (
    values: Record<string, unknown>,
    out: string[] = [],
  ): string[] | Promise<string[]> => {
    if (!json) return encodeWithCodec(values, out)
    for (const key of Object.keys(values)) {
      const value = values[key]
      if (value !== undefined) out.push(`${DATA}${key}`, jsonField(key, value))
    }
    return out
  }
  const encodeWithCodec = async (values: Record<string, unknown>, out: string[]): Promise<string[]> => {
    for (const key of Object.keys(values)) {
      const value = values[key]
      if (value !== undefined) out.push(`${DATA}${key}`, await encodeValue(key, value))
    }
    return out
  }
  /**
   * save()'s changed values, into `out`: first the values whose text names their field
   * (`{"<key>":...}` with a key JSON writes as is; the SAVE script reads the key back from the
   * text), the first of them into `out`'s last slot (the caller's), the others appended; then `d:<key>`,
   * value pairs for the rest (keys JSON escapes, a value JSON cannot hold, another codec). Answers
   * how many named values there are. One argument a key where a pair is two: each costs the client
   * about 700 instructions to encode and send.
   */
  const encodeSaved = (values: Record<string, unknown>, out: string[]): number | Promise<number> => {
    if (!json) return encodeWithCodec(values, out).then(() => 0)
    const first = out.length - 1
    let named = 0
    let pairs: string[] | null = null
    for (const key of Object.keys(values)) {
      const value = values[key]
      if (value === undefined) continue
      const plain = plainJsonString(key)
      const text = jsonField(key, value, plain)
      if (plain && text.length > 2) {
        if (named++ === 0) out[first] = text
        else out.push(text)
      } else {
        pairs ??= []
        pairs.push(`${DATA}${key}`, text)
      }
    }
    if (pairs !== null) for (const item of pairs) out.push(item)
    return named
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
    keepRaw: boolean,
  ): DecodedHash | null => {
    const data: SessionData = plainData()
    const raw = keepRaw ? new Map<string, string>() : NO_RAW
    let expiresAt = Number.NaN
    let userId: string | null = null
    let hasUser = false
    let indexed = ''
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const field: unknown = flat[i]
      const value: unknown = flat[i + 1]
      if (typeof field !== 'string' || typeof value !== 'string') return warn(id, 'has a non-text field')
      if (field === EXPIRES) expiresAt = wholeNumber(value)
      else if (field === INDEXED) indexed = value
      else if (field === USER) {
        hasUser = value === '-' || value.startsWith('+')
        userId = userOfMarker(value)
      } else if (field.startsWith(DATA)) {
        const key = field.slice(DATA.length)
        const plain = decoded === parseJson ? oneKeyValue(value, key) : NOT_PLAIN
        // `plainData` inherits nothing: a plain store keeps a key named `__proto__` as data.
        if (plain !== NOT_PLAIN) data[key] = plain
        else {
          const object = decoded(value, i + 1)
          if (!isPlainObject(object)) return warn(id, `has an undecodable value for "${key}"`)
          if (Object.hasOwn(object, key)) data[key] = object[key]
        }
        if (raw !== NO_RAW) (raw as Map<string, string>).set(key, value)
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
  const decodeHash = (
    id: string,
    flat: unknown,
    keepRaw = true,
  ): DecodedHash | null | Promise<DecodedHash | null> => {
    if (!Array.isArray(flat) || flat.length === 0) return null
    if (json) return fromFields(id, flat, parseJson, keepRaw)
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
    return Promise.all(pending).then(() => fromFields(id, flat, (_, index) => values.get(index), keepRaw))
  }
  return { encodeValue, encodeFields, encodeSaved, decodeHash }
}

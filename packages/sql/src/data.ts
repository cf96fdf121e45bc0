import { type SessionData, SessionDataError } from '@sessionbridge/core'
import { countDigits, isPlainObject, jsonText, parseJson, utf8Overflow } from '@sessionbridge/core/adapter'
import { PKG } from './dialect.ts'
import type { ResolvedSqlBackendOptions } from './options.ts'

/**
 * The session data as the table stores it: JSON text (native) or the codec's text (django), with
 * the size limits checked before anything is sent.
 */
export function sqlSessionData(resolved: ResolvedSqlBackendOptions) {
  const { client, dialect, django, codec, maxDataBytes, userIdKey, logger, tableName } = resolved
  // MySQL drops the connection when a statement exceeds max_allowed_packet (the client may see only
  // a reset), so ask the server its limit once and refuse oversized data before sending it.
  let packetLimit: Promise<number | null> | null = null
  const mysqlPacketLimit = (): Promise<number | null> => {
    packetLimit ??= client.query<{ m: unknown }>('SELECT @@max_allowed_packet AS m').then(
      ({ rows }) => Number(rows[0]?.m) - 4096 || null,
      (error: unknown) => {
        packetLimit = null
        throw error
      },
    )
    return packetLimit
  }
  /** The size checks of an encoded text; a promise only when MySQL's packet limit must be asked. */
  const checked = (text: string): string | Promise<string> => {
    if (maxDataBytes !== null) {
      const bytes = utf8Overflow(text, maxDataBytes)
      if (bytes !== null) {
        throw new SessionDataError(
          PKG,
          `session data is ${bytes} bytes encoded, over maxDataBytes (${maxDataBytes})`,
        )
      }
    }
    if (dialect === 'mysql' && text.length * 3 > 1_000_000) return packetChecked(text)
    return text
  }
  const packetChecked = async (text: string): Promise<string> => {
    const limit = await mysqlPacketLimit()
    const bytes = limit === null ? null : utf8Overflow(text, limit)
    if (bytes !== null) {
      throw new SessionDataError(
        PKG,
        `session data is ${bytes} bytes encoded, over MySQL max_allowed_packet (less 4 KiB for the statement)`,
      )
    }
    return text
  }
  const encode = async (data: SessionData): Promise<string> =>
    checked(django ? await codec!.encode(data) : jsonText(data))
  /**
   * The native layout's encoding, checked, with no promise in the common case (a string comes
   * back unless MySQL's packet limit must be asked): a save's size check costs one stringify only.
   */
  const encodeJson = (data: SessionData): string | Promise<string> => checked(jsonText(data))
  // What a patch's merged data may reach unencoded: the UTF-8 bytes of `checked`'s limits, 3 a unit.
  const uncheckedChars =
    Math.min(
      maxDataBytes ?? Number.POSITIVE_INFINITY,
      dialect === 'mysql' ? 1_000_000 : Number.POSITIVE_INFINITY,
    ) / 3
  /**
   * Whether a patch's data surely passes `checked` without encoding it (a JSON.stringify of the
   * whole session on every save): the request's data is the loaded data, whose stored JSON had
   * `loadedChars` characters (the native load's version on PostgreSQL and MySQL, `sizeToken`), with
   * the patch's texts (`dataChars`) merged in. JSON.stringify writes a parsed text at most 5.25
   * times as long: only a number grows, `1e20` (as MySQL stores it) to 21 digits.
   */
  const fitsUnchecked = (loadedChars: string | undefined, dataChars: number): boolean => {
    if (loadedChars === undefined) return false
    return countDigits(loadedChars, 0, loadedChars.length) * 6 + dataChars <= uncheckedChars // NaN: false
  }
  /**
   * The native layout's decoding, synchronous (no promise per load), of `stored` from `start` (the
   * load's one column, `nativeRow`): read in place, not sliced out.
   */
  const decodeJson = (stored: unknown, start = 0): SessionData | null => {
    if (isPlainObject(stored)) return stored // mysql2 parses MySQL 8's JSON type itself
    if (typeof stored !== 'string') return null
    try {
      const value = parseJson(stored, start)
      return isPlainObject(value) ? value : null
    } catch {
      return null
    }
  }
  const decode = async (stored: unknown): Promise<SessionData | null> => {
    if (!django) return decodeJson(stored)
    if (typeof stored !== 'string') return null
    try {
      return await codec!.decode(stored)
    } catch {
      return null
    }
  }
  const undecodable = (): null => {
    logger.warn(`[sessionbridge/${PKG}] a row of ${tableName} does not decode; treating it as no session`)
    return null
  }
  const userOf = (data: SessionData): string | null => {
    const value = data[userIdKey]
    return typeof value === 'string' || typeof value === 'number' ? String(value) : null
  }
  return { encode, encodeJson, fitsUnchecked, decode, decodeJson, undecodable, userOf }
}

export type SqlSessionData = ReturnType<typeof sqlSessionData>

/** The native load's one column read apart (`statements.ts`). */
export interface NativeRow {
  expiresAt: number
  /**
   * SQLite's and D1's version token: the row's version and its user as loaded, `<version> <user>`
   * (`<user>` as in the column), so a save tells whether the row at that version holds its user
   * (`saves.ts`); `undefined` elsewhere.
   */
  version: string | undefined
  /** The user_id column. */
  userId: string | null
  /** Where the stored data, JSON text, starts in the loaded column (it runs to its end). */
  jsonStart: number
}

/**
 * The native load's column: `<expires_at> <user><data>`, `<expires_at> <version> <user><data>`
 * when `versioned`; `<user>` is `-` for none, else `<characters> <user_id>` (its length in code
 * points, as each database counts a text's characters). `null` for anything else.
 */
export function nativeRow(loaded: unknown, versioned: boolean): NativeRow | null {
  if (typeof loaded !== 'string') return null
  const space = loaded.indexOf(' ')
  if (space < 1) return null
  let expiresAt = countDigits(loaded, 0, space)
  if (Number.isNaN(expiresAt)) expiresAt = Number(loaded.slice(0, space))
  const versionStart = space + 1
  let at = versionStart
  if (versioned) {
    const end = loaded.indexOf(' ', at)
    if (end <= at) return null
    at = end + 1
  }
  if (loaded.charCodeAt(at) === 0x2d) {
    const version = versioned ? loaded.slice(versionStart, at + 1) : undefined
    return { expiresAt, version, userId: null, jsonStart: at + 1 }
  }
  const end = loaded.indexOf(' ', at)
  const characters = countDigits(loaded, at, end)
  if (Number.isNaN(characters)) return null
  const userEnd = codePointsEnd(loaded, end + 1, characters)
  if (userEnd < 0) return null
  const version = versioned ? loaded.slice(versionStart, userEnd) : undefined
  return { expiresAt, version, userId: loaded.slice(end + 1, userEnd), jsonStart: userEnd }
}

/** Where `count` code points from `from` end in `text` (a surrogate pair is one), or -1 past its end. */
function codePointsEnd(text: string, from: number, count: number): number {
  let i = from
  for (let n = 0; n < count; n++) {
    if (i >= text.length) return -1
    const code = text.charCodeAt(i)
    const pair = code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    i += pair ? 2 : 1
  }
  return i
}

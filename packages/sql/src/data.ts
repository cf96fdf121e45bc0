import { type SessionData, SessionDataError } from '@sessionbridge/core'
import { isPlainObject } from '@sessionbridge/core/adapter'
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
  const tooLarge = (text: string, limit: number): number | null => {
    // Cheap bound first: a UTF-8 character takes at most 3 bytes per UTF-16 unit.
    if (text.length * 3 <= limit) return null
    const bytes = new TextEncoder().encode(text).length
    return bytes > limit ? bytes : null
  }
  const encode = async (data: SessionData): Promise<string> => {
    const text = django ? await codec!.encode(data) : JSON.stringify(data)
    if (maxDataBytes !== null) {
      const bytes = tooLarge(text, maxDataBytes)
      if (bytes !== null) {
        throw new SessionDataError(
          PKG,
          `session data is ${bytes} bytes encoded, over maxDataBytes (${maxDataBytes})`,
        )
      }
    }
    if (dialect === 'mysql' && text.length * 3 > 1_000_000) {
      const limit = await mysqlPacketLimit()
      const bytes = limit === null ? null : tooLarge(text, limit)
      if (bytes !== null) {
        throw new SessionDataError(
          PKG,
          `session data is ${bytes} bytes encoded, over MySQL max_allowed_packet (less 4 KiB for the statement)`,
        )
      }
    }
    return text
  }
  const decode = async (stored: unknown): Promise<SessionData | null> => {
    if (django) {
      if (typeof stored !== 'string') return null
      try {
        return await codec!.decode(stored)
      } catch {
        return null
      }
    }
    if (isPlainObject(stored)) return stored // mysql2 parses MySQL 8's JSON type itself
    if (typeof stored !== 'string') return null
    try {
      const value: unknown = JSON.parse(stored)
      return isPlainObject(value) ? value : null
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
  return { encode, decode, undecodable, userOf }
}

export type SqlSessionData = ReturnType<typeof sqlSessionData>

import type { SessionRecord } from '@sessionbridge/core'
import { backendError, parseSqlDateTime } from '@sessionbridge/core/adapter'
import { nativeRow, type SqlSessionData } from './data.ts'
import { PKG, refusedData } from './dialect.ts'
import type { ResolvedSqlBackendOptions } from './options.ts'
import type { SessionStatements } from './statements.ts'

/** What a load finding no live session answers at once. */
const NO_RECORD: Promise<null> = Promise.resolve(null)

const typedError = (error: unknown) => backendError(PKG, 'load', error, refusedData)

/** A backend's loads: `loadAtOnce` where the client answers without a promise (see core's `LoadAtOnce`). */
export interface RecordLoader {
  load(id: string): Promise<SessionRecord | null>
  loadAtOnce: ((id: string) => SessionRecord | null | undefined) | null
}

/**
 * The backend's `load` (its id already valid): the Django layout's row decoded by its codec, or the
 * native layout's one text column (`nativeRow`), with the expiry checked here. Driver errors become
 * typed errors. `versioned`: the native row carries SQLite's version (`versionedSave`).
 */
export function recordLoader(
  resolved: ResolvedSqlBackendOptions,
  sql: SessionStatements,
  data: SqlSessionData,
  versioned: boolean,
): RecordLoader {
  const { client, django, now } = resolved

  /** Django's load: `session_data`, `expire_date` of a live row, as values. */
  const loadDjangoRow = (id: string): Promise<unknown[] | undefined> => {
    const params = [id, sql.time(now())]
    // `queryRow` where the client has it: no row object to build.
    if (client.queryRow) return client.queryRow(sql.load, params)
    return client
      .query<Record<string, unknown>>(sql.load, params)
      .then(({ rows }) => rows[0] && [rows[0].session_data, rows[0].expire_date])
  }
  const loadDjangoRecord = async (id: string): Promise<SessionRecord | null> => {
    try {
      const row = await loadDjangoRow(id)
      if (!row) return null
      const expiresAt = parseSqlDateTime(row[1])
      const stored = await data.decode(row[0])
      if (!stored || !Number.isFinite(expiresAt)) return data.undecodable()
      // The loaded text is the version: a save writes once if the row still holds it (update.ts).
      return { data: stored, expiresAt, userId: data.userOf(stored), version: String(row[0]) }
    } catch (error) {
      throw typedError(error)
    }
  }

  /** The native load's column as a record (`nativeRow`), the expiry checked here. */
  const nativeRecord = (loaded: unknown): SessionRecord | null => {
    if (loaded === undefined) return null
    const row = nativeRow(loaded, versioned)
    if (row === null || !Number.isFinite(row.expiresAt)) return data.undecodable()
    if (row.expiresAt <= now()) return null
    const stored = data.decodeJson(loaded, row.jsonStart)
    if (!stored) return data.undecodable()
    const { expiresAt, version, userId } = row
    // SQLite's: the row's version (`saves.ts`); elsewhere the loaded JSON's length (`fitsUnchecked`).
    return {
      data: stored,
      expiresAt,
      userId,
      version: version ?? String((loaded as string).length - row.jsonStart),
    }
  }
  const loadNativeRecord = async (id: string): Promise<SessionRecord | null> => {
    try {
      // Each branch awaits the driver's own promise: no `then` between it and this function.
      const loaded = client.queryRow
        ? (await client.queryRow(sql.load, [id]))?.[0]
        : (await client.query<{ loaded: unknown }>(sql.load, [id])).rows[0]?.loaded
      return nativeRecord(loaded)
    } catch (error) {
      throw typedError(error)
    }
  }
  /**
   * The native load without a promise where the client can (`queryRowAtOnce`): `undefined` when
   * the statement must wait (a transaction is open). Throws typed errors.
   */
  const nativeAtOnce = (id: string): SessionRecord | null | undefined => {
    try {
      const loaded = client.queryRowAtOnce!(sql.load, [id])
      return loaded === null ? undefined : nativeRecord(loaded?.[0])
    } catch (error) {
      throw typedError(error)
    }
  }
  /** The native load answered at once where the client can: no `await`. */
  const loadNativeAtOnce = (id: string): Promise<SessionRecord | null> => {
    let record: SessionRecord | null | undefined
    try {
      record = nativeAtOnce(id)
    } catch (error) {
      return Promise.reject(error)
    }
    if (record === undefined) return loadNativeRecord(id)
    if (record === null) return NO_RECORD
    // Settled with an object made here, whose shape the optimizing compiler knows to have no
    // `then`: the record `nativeRecord` made is another function's, and a promise resolved with
    // it looks one up (about 300 instructions a load; this copy costs a tenth of it).
    const { data, expiresAt, userId, version } = record
    return Promise.resolve({ data, expiresAt, userId, version })
  }
  if (django) return { load: loadDjangoRecord, loadAtOnce: null }
  if (client.queryRowAtOnce) return { load: loadNativeAtOnce, loadAtOnce: nativeAtOnce }
  return { load: loadNativeRecord, loadAtOnce: null }
}

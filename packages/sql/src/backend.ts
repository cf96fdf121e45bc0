import {
  defaultIdFormat,
  djangoIdFormat,
  type IdFormat,
  type SessionBackend,
  SessionBackendError,
  type SessionCodec,
  SessionConfigError,
  type SessionData,
  SessionDataError,
  type SessionLogger,
  type SessionRecord,
} from '@sessionbridge/core'
import { type ChangeSet, isPlainObject, missingOption } from '@sessionbridge/core/adapter'
import type { SqlClient } from './client.ts'
import { checkDialect, dataLimitOf, isDuplicateKey, PKG, parseDateTime, quoteTable } from './dialect.ts'
import { DEFAULT_TABLES, type SqlLayout } from './schema.ts'
import { sessionStatements } from './statements.ts'

/** Options of `sqlBackend`. */
export interface SqlBackendOptions {
  /** The database, through an adapter: `pgClient`, `postgresJsClient`, `mysqlClient`, `sqliteClient`, `pgliteClient`. */
  client: SqlClient
  /** `native` (JSON data, user index) or `django` (Django's `django_session`, shared with Django). */
  layout: SqlLayout
  /** Table name, `name` or `schema.name`. @default 'sessionbridge_session' (native), 'django_session' (django) */
  table?: string
  /**
   * How the Django layout encodes `session_data`: pass `djangoCodec(...)` from
   * `@sessionbridge/django` so Django reads the rows. Required for `django`; not used by `native`.
   */
  codec?: SessionCodec
  /** Session id format. @default the codec's (django), else djangoIdFormat (32 x [a-z0-9]) */
  idFormat?: IdFormat
  /** Milliseconds between automatic `clearExpired()` runs; `0` = never (call it yourself, or from cron). @default 0 */
  clearExpiredInterval?: number
  /** Rows one `clearExpired` statement deletes, so a big purge never holds long locks. @default 1000 */
  batchSize?: number
  /** Largest encoded session stored, in bytes (UTF-8); `null` = leave it to the database. @default 1_048_576 */
  maxDataBytes?: number | null
  /** The data key holding the user id (the Django layout derives `userId` from it). @default '_auth_user_id' */
  userIdKey?: string
  /** Where warnings go (undecodable rows, failed background sweeps). @default console */
  logger?: SessionLogger
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

/** The backend, plus what it adds to the contract. */
export interface SqlBackend extends SessionBackend {
  readonly layout: SqlLayout
  clearExpired(): Promise<number>
  close(): Promise<void>
}

const wholeNumber = (option: string, value: unknown, min: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new SessionConfigError(PKG, option, `%s must be a whole number of at least ${min}`)
  }
  return value
}

/** Copies `data` with a change set applied; `defineProperty` so a key named `__proto__` stays data. */
export function applyChanges(data: SessionData, changes: ChangeSet): SessionData {
  const out: SessionData = { ...data }
  for (const key of changes.deleted) delete out[key]
  for (const [key, value] of Object.entries(changes.set)) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * Sessions in a relational database. `native` keeps JSON data with a user index; on PostgreSQL a
 * save is one statement (`data - deleted || set`), elsewhere (and for the `django` layout) a row
 * lock in a transaction: read, merge the change set, write. Either way concurrent writers of
 * different keys all survive.
 */
export function sqlBackend(options: SqlBackendOptions): SqlBackend {
  if (!options || typeof options !== 'object' || !options.client) throw missingOption(PKG, 'client')
  const { client } = options
  if (typeof client.query !== 'function' || typeof client.transaction !== 'function') {
    throw new SessionConfigError(PKG, 'client', '%s must be an SqlClient (query and transaction)')
  }
  const dialect = checkDialect(client.dialect)
  const layout = options.layout
  if (layout === undefined) throw missingOption(PKG, 'layout')
  if (layout !== 'native' && layout !== 'django')
    throw new SessionConfigError(PKG, 'layout', '%s must be "native" or "django"')
  const django = layout === 'django'
  const codec = options.codec
  if (django && !codec)
    throw new SessionConfigError(
      PKG,
      'codec',
      `missing %s: the "django" layout needs djangoCodec() from @sessionbridge/django`,
    )
  if (codec && (typeof codec.encode !== 'function' || typeof codec.decode !== 'function')) {
    throw new SessionConfigError(PKG, 'codec', '%s must have encode() and decode()')
  }
  const tableName = options.table ?? DEFAULT_TABLES[layout]
  const table = quoteTable(dialect, tableName)
  const idFormat = options.idFormat ?? (django ? (codec?.idFormat ?? djangoIdFormat) : defaultIdFormat)
  if (typeof idFormat?.generate !== 'function' || typeof idFormat.validate !== 'function') {
    throw new SessionConfigError(PKG, 'idFormat', '%s must have generate() and validate()')
  }
  const maxIdLength = django ? 40 : 128
  if (idFormat.generate().length > maxIdLength) {
    throw new SessionConfigError(
      PKG,
      'idFormat',
      `%s makes ids longer than the ${maxIdLength} characters the ${layout} table holds`,
    )
  }
  const batchSize = wholeNumber('batchSize', options.batchSize ?? 1000, 1)
  const interval = wholeNumber('clearExpiredInterval', options.clearExpiredInterval ?? 0, 0)
  const maxDataBytes =
    options.maxDataBytes === null ? null : wholeNumber('maxDataBytes', options.maxDataBytes ?? 1_048_576, 1)
  const userIdKey = options.userIdKey ?? '_auth_user_id'
  const logger = options.logger ?? console
  const now = options.now ?? Date.now
  const sql = sessionStatements(dialect, layout, table, batchSize)

  const undecodable = (): null => {
    logger.warn(`[sessionbridge/${PKG}] a row of ${tableName} does not decode; treating it as no session`)
    return null
  }
  // MySQL drops the connection when a statement exceeds max_allowed_packet (the client may see only
  // a reset), so ask the server its limit once and refuse oversized data before sending it.
  let packetLimit: Promise<number | null> | null = null
  const mysqlPacketLimit = (): Promise<number | null> =>
    (packetLimit ??= client.query<{ m: unknown }>('SELECT @@max_allowed_packet AS m').then(
      ({ rows }) => Number(rows[0]?.m) - 4096 || null,
      (error: unknown) => {
        packetLimit = null
        throw error
      },
    ))
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
  const userOf = (data: SessionData): string | null => {
    const value = data[userIdKey]
    return typeof value === 'string' || typeof value === 'number' ? String(value) : null
  }
  /** Runs one operation; bad ids never reach SQL, driver errors become typed errors. */
  const guarded = async <T>(op: string, fallback: T, id: string | null, fn: () => Promise<T>): Promise<T> => {
    if (id !== null && (typeof id !== 'string' || !idFormat.validate(id))) return fallback
    try {
      return await fn()
    } catch (error) {
      if (error instanceof SessionDataError || error instanceof SessionBackendError) throw error
      const message = error instanceof Error ? error.message : String(error)
      const limit = dataLimitOf(error)
      if (limit)
        throw new SessionDataError(
          PKG,
          `${op}: the database refused the session data (${limit}): ${message}`,
          { cause: error },
        )
      throw new SessionBackendError(PKG, op, message, { cause: error })
    }
  }

  const lockedMerge = (id: string, changes: ChangeSet, record: SessionRecord): Promise<boolean> =>
    client.transaction(async (tx) => {
      const { rows } = await tx.query<Record<string, unknown>>(sql.lockedRead, [id, sql.time(now())])
      const row = rows[0]
      if (!row) return false
      const stored = await decode(django ? row.session_data : row.data)
      if (!stored) {
        undecodable()
        return false // never overwrite what we cannot read
      }
      const text = await encode(applyChanges(stored, changes))
      const params = django
        ? [text, sql.time(record.expiresAt), id]
        : [text, record.expiresAt, record.userId, id]
      return (await tx.query(sql.write, params)).rowCount > 0
    })

  let timer: ReturnType<typeof setInterval> | null = null
  let sweeping = false

  const backend: SqlBackend = {
    name: PKG,
    layout,
    idFormat,
    capabilities: Object.freeze({
      merge: true,
      issuesIds: false,
      anonymous: true,
      // The Django layout keeps users only inside signed, encoded data: no index to ask.
      destroyUser: !django,
      listUser: !django,
      clearExpired: true,
      update: false,
    }),
    load: (id) =>
      guarded('load', null, id, async () => {
        const { rows } = await client.query<Record<string, unknown>>(sql.load, [id, sql.time(now())])
        const row = rows[0]
        if (!row) return null
        const data = await decode(django ? row.session_data : row.data)
        const expiresAt = django ? parseDateTime(row.expire_date) : Number(row.expires_at)
        if (!data || !Number.isFinite(expiresAt)) return undecodable()
        const userId = django ? userOf(data) : row.user_id == null ? null : String(row.user_id)
        return { data, expiresAt, userId }
      }),
    create: (proposedId, record) =>
      guarded('create', null, proposedId, async () => {
        const text = await encode(record.data)
        const params = django
          ? [proposedId, text, sql.time(record.expiresAt)]
          : [proposedId, text, record.expiresAt, record.userId]
        try {
          return (await client.query(sql.insert, params)).rowCount > 0 ? proposedId : null
        } catch (error) {
          if (isDuplicateKey(error)) return null // MySQL has no ON CONFLICT DO NOTHING without side effects
          throw error
        }
      }),
    save: (id, changes, record) =>
      guarded('save', false, id, async () => {
        if (!sql.patch) return lockedMerge(id, changes, record)
        await encode(record.data) // the merged size, as this request sees it
        const params = [
          JSON.stringify(changes.deleted),
          JSON.stringify(changes.set),
          record.expiresAt,
          record.userId,
          id,
          now(),
        ]
        return (await client.query(sql.patch, params)).rowCount > 0
      }),
    touch: (id, expiresAt) =>
      guarded('touch', false, id, async () => {
        return (await client.query(sql.touch, [sql.time(expiresAt), id, sql.time(now())])).rowCount > 0
      }),
    destroy: (id) =>
      guarded('destroy', undefined, id, async () => {
        await client.query(sql.destroy, [id])
      }),
    async clearExpired() {
      return guarded('clearExpired', 0, null, async () => {
        const cutoff = sql.time(now())
        let total = 0
        for (;;) {
          const { rowCount } = await client.query(sql.clearBatch, [cutoff])
          total += rowCount
          if (rowCount < batchSize) return total
        }
      })
    },
    async close() {
      if (timer) clearInterval(timer)
      timer = null
    },
  }
  if (!django) {
    backend.destroyUser = (userId) =>
      guarded(
        'destroyUser',
        0,
        null,
        async () => (await client.query(sql.destroyUser!, [String(userId)])).rowCount,
      )
    backend.listUser = (userId) =>
      guarded('listUser', [], null, async () => {
        const { rows } = await client.query<{ id: unknown }>(sql.listUser!, [String(userId), now()])
        return rows.map((r) => String(r.id))
      })
  }
  if (interval > 0) {
    timer = setInterval(() => {
      if (sweeping) return
      sweeping = true
      backend
        .clearExpired()
        .catch((error: Error) =>
          logger.warn(`[sessionbridge/${PKG}] background clearExpired failed: ${error.message}`),
        )
        .finally(() => {
          sweeping = false
        })
    }, interval)
    // Never keep the process alive just to sweep.
    if (typeof timer === 'object' && timer && 'unref' in timer) timer.unref()
  }
  return backend
}

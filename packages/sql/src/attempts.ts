import type { AttemptCount, AttemptStore } from '@sessionbridge/core'
import { sqlStatement } from '@sessionbridge/core/adapter'
import type { SqlDialect } from './client.ts'
import { baseName, PKG, quoteName, quoteTable } from './dialect.ts'
import { type SideTableOptions, sideTable } from './side-table.ts'

/** Default attempt table. */
export const DEFAULT_ATTEMPT_TABLE = 'sessionbridge_attempt'

/** Options of `sqlAttemptStore`. */
export interface SqlAttemptStoreOptions extends SideTableOptions {
  /** Table name. @default 'sessionbridge_attempt' */
  table?: string
}

/** An `AttemptStore` in SQL, with its table's migration. */
export interface SqlAttemptStore extends AttemptStore {
  /** Creates the attempt table if it does not exist. */
  migrate(): Promise<void>
  /** Deletes counters whose window has ended; returns how many. */
  clearExpired(): Promise<number>
}

/** The attempt table: the throttle's key (no user input verbatim), the count and the window end (ms). */
export function attemptTableDdl(dialect: SqlDialect, table: string = DEFAULT_ATTEMPT_TABLE): string[] {
  const t = quoteTable(dialect, table)
  const ix = quoteName(dialect, `${baseName(table)}_reset_at`)
  if (dialect === 'mysql') {
    return [
      `CREATE TABLE IF NOT EXISTS ${t} (attempt_key varchar(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, attempts integer NOT NULL, reset_at bigint NOT NULL, KEY ${ix} (reset_at)) ENGINE=InnoDB`,
    ]
  }
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (attempt_key varchar(100) NOT NULL PRIMARY KEY, attempts integer NOT NULL, reset_at bigint NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS ${ix} ON ${t} (reset_at)`,
  ]
}

/**
 * The statements per dialect, in its own placeholder syntax. `upsert` counts a hit and starts a new
 * window when the old one ended, bound to `[key, end, at, at, end]`.
 */
function attemptStatements(dialect: SqlDialect, t: string) {
  const s = (build: (p: () => string) => string) => sqlStatement(dialect, build)
  const insert = (p: () => string, as = '') =>
    `INSERT INTO ${t}${as} (attempt_key, attempts, reset_at) VALUES (${p()}, 1, ${p()})`
  const undo = s(
    (p) =>
      `UPDATE ${t} SET attempts = attempts - 1 WHERE attempt_key = ${p()} AND attempts > 0 AND reset_at > ${p()}`,
  )
  const reset = s((p) => `DELETE FROM ${t} WHERE attempt_key = ${p()}`)
  if (dialect === 'mysql') {
    // MySQL assigns left to right: `attempts` still sees the old `reset_at`, as does `reset_at`.
    return {
      upsert: s(
        (p) =>
          `${insert(p)} ON DUPLICATE KEY UPDATE attempts = IF(reset_at <= ${p()}, 1, attempts + 1), reset_at = IF(reset_at <= ${p()}, ${p()}, reset_at)`,
      ),
      read: s((p) => `SELECT attempts, reset_at FROM ${t} WHERE attempt_key = ${p()}`),
      undo,
      reset,
    }
  }
  const q = dialect === 'postgres' ? 'a.' : ''
  const as = dialect === 'postgres' ? ' AS a' : ''
  return {
    upsert: s(
      (p) =>
        `${insert(p, as)} ON CONFLICT (attempt_key) DO UPDATE SET attempts = CASE WHEN ${q}reset_at <= ${p()} THEN 1 ELSE ${q}attempts + 1 END, reset_at = CASE WHEN ${q}reset_at <= ${p()} THEN ${p()} ELSE ${q}reset_at END RETURNING attempts, reset_at`,
    ),
    read: null,
    undo,
    reset,
  }
}

/**
 * Login attempt counters in SQL: one row per counter, counted by one upsert (PostgreSQL, SQLite)
 * or an upsert and a read in one transaction (MySQL/MariaDB), so concurrent attempts are each
 * counted once. Rows of ended windows are swept now and then.
 */
export function sqlAttemptStore(options: SqlAttemptStoreOptions): SqlAttemptStore {
  const side = sideTable(options, DEFAULT_ATTEMPT_TABLE, 'attempt_key', 'reset_at')
  const { client, dialect, tableName, table, sweepEvery, now, io, sweep } = side
  const { upsert, read, undo, reset } = attemptStatements(dialect, table)
  let hits = 0

  const checkKey = (key: string) => {
    if (typeof key !== 'string' || key.length === 0 || key.length > 100)
      throw new RangeError('attempt keys are 1 to 100 characters')
    return key
  }
  const clearExpired = () => side.clearExpired('attempts.clearExpired')

  return {
    name: PKG,
    migrate: () =>
      io('attempts.migrate', async () => {
        for (const statement of attemptTableDdl(dialect, tableName)) await client.query(statement)
      }),
    clearExpired,
    hit: (key, windowMs) =>
      io('attempts.hit', async (): Promise<AttemptCount> => {
        const at = now()
        const end = Math.ceil(at + windowMs)
        if (++hits % sweepEvery === 0) await client.query(sweep, [at])
        const params = [checkKey(key), end, at, at, end]
        type Row = { attempts: unknown; reset_at: unknown }
        const rows = read
          ? await client.transaction(async (tx) => {
              await tx.query(upsert, params)
              return (await tx.query<Row>(read, [key])).rows
            })
          : (await client.query<Row>(upsert, params)).rows
        const count = Number(rows[0]?.attempts)
        const resetAt = Number(rows[0]?.reset_at)
        if (!Number.isSafeInteger(count) || !Number.isFinite(resetAt))
          throw new Error('the upsert returned no counter')
        return { count, ttlMs: Math.max(0, resetAt - at) }
      }),
    undo: (key) =>
      io('attempts.undo', async () => {
        await client.query(undo, [checkKey(key), now()])
      }),
    reset: (key) =>
      io('attempts.reset', async () => {
        await client.query(reset, [checkKey(key)])
      }),
  }
}

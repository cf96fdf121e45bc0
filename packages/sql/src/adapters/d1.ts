import { SessionConfigError } from '@sessionbridge/core'
import type { SqlClient, SqlResult } from '../client.ts'

/** What one D1 statement resolves to (`all()`, or one entry of `batch()`). */
export interface D1ResultLike {
  results?: unknown[]
  meta?: { changes?: number }
}

/** A prepared D1 statement. */
export interface D1PreparedStatementLike {
  bind(...values: unknown[]): D1PreparedStatementLike
  all(): Promise<D1ResultLike>
  raw(options: { columnNames: true }): Promise<unknown[][]>
}

/** The part of a Cloudflare D1 binding the adapter uses; `env.DB` (or miniflare's `getD1Database`) fits. */
export interface D1DatabaseLike {
  prepare(query: string): D1PreparedStatementLike
  batch(statements: D1PreparedStatementLike[]): Promise<D1ResultLike[]>
}

/** Options of `d1Client`. */
export interface D1ClientOptions {
  /** Runs of a transaction whose reads another writer changed before its write, in all. @default 10 */
  maxAttempts?: number
}

/**
 * What D1 refuses to run (`sqlite_version()` is not an authorized function) but
 * `@sessionbridge/sql` asks once, to learn whether `DELETE ... RETURNING` exists: D1 has always
 * been SQLite 3.40 or later, so the adapter answers that probe itself.
 */
const VERSION_PROBE = /^\s*SELECT\s+sqlite_version\(\)\s+AS\s+v\s*$/i
const D1_SQLITE_FLOOR = '3.40.0'
const READ = /^\s*SELECT\b/i
const RETURNING = /\bRETURNING\b/i
const CONFLICT_MARK = 'sessionbridge/sql d1: rows read in this transaction changed'

/** Thrown inside a transaction run when another writer changed what it read; the run is retried. */
class Conflict extends Error {}

// D1 binds no booleans: store them as 1/0 like the SQLite adapter does.
const bound = (params: readonly unknown[]) => params.map((v) => (typeof v === 'boolean' ? Number(v) : v))
const isRead = (sql: string) => READ.test(sql) && !RETURNING.test(sql)

/** One read of a transaction run, kept to check at write time that it still reads the same. */
interface RecordedRead {
  sql: string
  params: unknown[]
  rows: unknown[][]
}

/**
 * The condition "this read would still return these rows" (as a set, with the same count), in
 * SQL over bound values, so no value is formatted by us.
 */
function unchanged(read: RecordedRead): { cte: string; condition: string; params: unknown[] } {
  if (read.rows.length === 0) {
    return { cte: `r AS (${read.sql})`, condition: 'NOT EXISTS (SELECT 1 FROM r)', params: read.params }
  }
  const tuple = `(${read.rows[0]!.map(() => '?').join(', ')})`
  return {
    cte: `r AS (${read.sql}), e AS (VALUES ${read.rows.map(() => tuple).join(', ')})`,
    condition:
      `(SELECT count(*) FROM r) = ${read.rows.length}` +
      ' AND NOT EXISTS (SELECT * FROM r EXCEPT SELECT * FROM e)' +
      ' AND NOT EXISTS (SELECT * FROM e EXCEPT SELECT * FROM r)',
    params: [...read.params, ...read.rows.flat()],
  }
}

async function run<Row>(db: D1DatabaseLike, sql: string, params: readonly unknown[] = []) {
  if (VERSION_PROBE.test(sql)) return { rows: [{ v: D1_SQLITE_FLOOR } as Row], rowCount: 1 }
  const result = await db
    .prepare(sql)
    .bind(...bound(params))
    .all()
  const rows = (result.results ?? []) as Row[]
  return { rows, rowCount: isRead(sql) ? rows.length : (result.meta?.changes ?? 0) }
}

/** One run of a transaction: reads go straight to D1 and are recorded; the one write is guarded. */
function optimisticRun(db: D1DatabaseLike): { tx: SqlClient; conflicted: () => boolean } {
  const reads: RecordedRead[] = []
  let wrote = false
  let conflict = false
  const tx: SqlClient = {
    dialect: 'sqlite',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
      const values = bound(params)
      if (isRead(sql)) {
        const [names = [], ...rows] = await db
          .prepare(sql)
          .bind(...values)
          .raw({ columnNames: true })
        if (!wrote) reads.push({ sql, params: values, rows })
        const objects = rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])) as Row)
        return { rows: objects, rowCount: objects.length }
      }
      if (wrote) {
        throw new Error(
          'sessionbridge/sql d1Client: a transaction may write once (D1 has no interactive transactions)',
        )
      }
      wrote = true
      try {
        return await guardedWrite<Row>(db, reads.map(unchanged), sql, values)
      } catch (error) {
        conflict ||= error instanceof Conflict
        throw error
      }
    },
    transaction: (fn) => fn(tx),
  }
  return { tx, conflicted: () => conflict }
}

/** The write, in one D1 batch after statements that fail it if any earlier read changed. */
async function guardedWrite<Row>(
  db: D1DatabaseLike,
  guards: ReturnType<typeof unchanged>[],
  sql: string,
  params: unknown[],
): Promise<SqlResult<Row>> {
  // json() of text that is not JSON raises an error: the only way to abort a batch from plain SQL.
  const statements = guards.map((g) =>
    db.prepare(`WITH ${g.cte} SELECT json('${CONFLICT_MARK}') WHERE NOT (${g.condition})`).bind(...g.params),
  )
  statements.push(db.prepare(sql).bind(...params))
  try {
    const results = await db.batch(statements)
    const last = results[results.length - 1]
    const rows = (last?.results ?? []) as Row[]
    return { rows, rowCount: RETURNING.test(sql) ? rows.length : (last?.meta?.changes ?? 0) }
  } catch (error) {
    if (guards.length > 0 && (await changed(db, guards))) throw new Conflict(CONFLICT_MARK, { cause: error })
    throw error
  }
}

async function changed(db: D1DatabaseLike, guards: ReturnType<typeof unchanged>[]): Promise<boolean> {
  const checks = guards.map((g) =>
    db.prepare(`WITH ${g.cte} SELECT (${g.condition}) AS same`).bind(...g.params),
  )
  const results = await db.batch(checks)
  return results.some((r) => !(r.results?.[0] as { same?: unknown } | undefined)?.same)
}

const pause = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** attempt)))

/**
 * An `SqlClient` over a Cloudflare D1 binding (SQLite at the edge). D1 has no interactive
 * transactions, so `transaction(fn)` is optimistic: reads run at once and are remembered, and the
 * one write a transaction may make runs in a D1 batch (atomic) behind checks that those reads still
 * return the same rows; if another writer got in between, `fn` runs again (up to `maxAttempts`).
 * Transactions through the same client also wait for each other, so only writers in other isolates
 * ever conflict.
 */
export function d1Client(db: D1DatabaseLike, options: D1ClientOptions = {}): SqlClient {
  if (!db || typeof db.prepare !== 'function' || typeof db.batch !== 'function') {
    throw new SessionConfigError(
      'sql',
      'db',
      '%s of d1Client must be a D1 database binding (prepare and batch)',
    )
  }
  const maxAttempts = options.maxAttempts ?? 10
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new SessionConfigError('sql', 'maxAttempts', '%s must be a whole number of at least 1')
  }
  let gate: Promise<void> = Promise.resolve()
  const client: SqlClient = {
    dialect: 'sqlite',
    singleWriteTransactions: true,
    query: (sql, params) => run(db, sql, params),
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const turn = gate.then(() => attempt(fn))
      gate = turn.then(
        () => {},
        () => {},
      )
      return turn
    },
  }
  const attempt = async <T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> => {
    for (let n = 1; ; n++) {
      const run = optimisticRun(db)
      let cause: unknown = null
      try {
        const result = await fn(run.tx)
        // \`fn\` swallowed the conflict: its result rests on stale reads, so it runs again.
        if (!run.conflicted()) return result
      } catch (error) {
        if (!run.conflicted()) throw error
        cause = error
      }
      if (n >= maxAttempts) {
        throw new Error(`sessionbridge/sql d1Client: ${CONFLICT_MARK} on each of ${maxAttempts} attempts`, {
          cause,
        })
      }
      await pause(n)
    }
  }
  return client
}

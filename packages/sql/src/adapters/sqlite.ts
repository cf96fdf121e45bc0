import { SessionConfigError } from '@sessionbridge/core'
import type { SqlClient, SqlResult } from '../client.ts'

/** A prepared better-sqlite3 statement. */
export interface SqliteStatementLike {
  /** True when the statement returns rows (SELECT, or anything with RETURNING). */
  readonly reader: boolean
  all(...params: never[]): unknown[]
  run(...params: never[]): { changes: number }
}

/** The part of a better-sqlite3 `Database` the adapter uses; `new Database(file)` fits. */
export interface SqliteDatabaseLike {
  prepare(source: string): SqliteStatementLike
}

/** Options of `sqliteClient`. */
export interface SqliteClientOptions {
  /**
   * Milliseconds a statement keeps retrying while another connection (Django, another process)
   * holds the lock, before it fails with SQLite's `SQLITE_BUSY`. The wait is asynchronous: the
   * adapter sets the connection's `busy_timeout` to 0 and retries on timers, so the event loop
   * never stalls on a lock. @default 5000
   */
  lockWaitMs?: number
}

// First retry after 2 ms, doubling up to this: a lock held for a few ms costs a few ms.
const MAX_RETRY_DELAY_MS = 50

const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** SQLite binds no booleans: they are stored as 1/0 like every SQLite ORM does (copied only then). */
function bindable(params: readonly unknown[]): never[] {
  let values = params
  for (let i = 0; i < params.length; i++) {
    if (typeof params[i] === 'boolean') {
      if (values === params) values = params.slice()
      ;(values as unknown[])[i] = Number(params[i])
    }
  }
  return values as never[]
}

/**
 * An `SqlClient` over better-sqlite3. Statements run synchronously and are cached prepared;
 * `transaction` is `BEGIN IMMEDIATE` ... `COMMIT` (the write lock is taken up front, so
 * read-modify-write is atomic across processes too), and everything else sharing this client waits
 * until it ends: one transaction at a time, never interleaved. A lock held elsewhere is waited for
 * asynchronously, up to `lockWaitMs`.
 */
export function sqliteClient(db: SqliteDatabaseLike, options: SqliteClientOptions = {}): SqlClient {
  const lockWaitMs = options.lockWaitMs ?? 5000
  if (!Number.isInteger(lockWaitMs) || lockWaitMs < 0) {
    throw new SessionConfigError('sql', 'lockWaitMs', '%s must be a whole number of milliseconds >= 0')
  }
  // better-sqlite3 would otherwise sleep inside the call, holding the event loop (busy_timeout).
  const pragma = db.prepare('PRAGMA busy_timeout = 0')
  if (pragma.reader) pragma.all()
  else pragma.run()
  const statements = new Map<string, SqliteStatementLike>()
  const prepared = (sql: string): SqliteStatementLike => {
    let stmt = statements.get(sql)
    if (!stmt) {
      stmt = db.prepare(sql)
      if (statements.size >= 200) statements.delete(statements.keys().next().value!)
      statements.set(sql, stmt)
    }
    return stmt
  }
  const run = <Row>(sql: string, params: readonly unknown[] = []): SqlResult<Row> => {
    const values = bindable(params)
    const stmt = prepared(sql)
    if (stmt.reader) {
      const rows = stmt.all(...values) as Row[]
      return { rows, rowCount: rows.length }
    }
    return { rows: [], rowCount: stmt.run(...values).changes }
  }

  /**
   * `run`, retried on timers while another connection holds the lock, up to `lockWaitMs`. The
   * first attempt runs at once and, when it succeeds (almost always), costs one settled promise.
   */
  const runWaiting = <Row>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> => {
    const deadline = Date.now() + lockWaitMs
    try {
      return Promise.resolve(run<Row>(sql, params))
    } catch (error) {
      if (!isBusy(error) || deadline - Date.now() <= 0) return Promise.reject(error)
      return retryWaiting<Row>(sql, params, deadline)
    }
  }
  const retryWaiting = async <Row>(
    sql: string,
    params: readonly unknown[],
    deadline: number,
  ): Promise<SqlResult<Row>> => {
    for (let delay = 2; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
      await sleep(Math.min(delay, deadline - Date.now()))
      try {
        return run<Row>(sql, params)
      } catch (error) {
        if (!isBusy(error) || deadline - Date.now() <= 0) throw error
      }
    }
  }

  let gate: Promise<void> | null = null
  /** A statement that arrived during a transaction: it runs once no transaction is open. */
  const afterGate = async <Row>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>> => {
    while (gate) await gate
    return runWaiting<Row>(sql, params)
  }
  const tx: SqlClient = {
    dialect: 'sqlite',
    query: (sql, params) => runWaiting(sql, params),
    transaction: (fn) => fn(tx),
  }
  return {
    dialect: 'sqlite',
    query(sql, params) {
      return gate ? afterGate(sql, params) : runWaiting(sql, params)
    },
    async transaction(fn) {
      while (gate) await gate
      let open!: () => void
      gate = new Promise<void>((resolve) => {
        open = resolve
      })
      try {
        await runWaiting('BEGIN IMMEDIATE')
        try {
          const result = await fn(tx)
          await runWaiting('COMMIT')
          return result
        } catch (error) {
          try {
            run('ROLLBACK')
          } catch {
            // SQLite already rolled back (some errors end the transaction themselves).
          }
          throw error
        }
      } finally {
        gate = null
        open()
      }
    },
  }
}

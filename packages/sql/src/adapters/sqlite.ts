import { SessionConfigError } from '@sessionbridge/core'
import type { SqlClient, SqlResult } from '../client.ts'

/** A prepared better-sqlite3 statement. */
export interface SqliteStatementLike {
  /** True when the statement returns rows (SELECT, or anything with RETURNING). */
  readonly reader: boolean
  all(...params: never[]): unknown[]
  run(...params: never[]): { changes: number }
  /** The first row, or `undefined` (better-sqlite3 has it; used by `queryRow`). */
  get?(...params: never[]): unknown
  /** Rows as arrays of values from now on (better-sqlite3 has it; used by `queryRow`). */
  raw?(raw?: boolean): unknown
  /** Rows as their first value from now on (better-sqlite3 has it; `queryRow` of one column). */
  pluck?(pluck?: boolean): unknown
  /** The columns a row has (better-sqlite3 has it; `queryRow` counts them). */
  columns?(): readonly unknown[]
}

/** A `queryRow` statement and how it gives its row (see `rowStatement`). */
interface RowStatement {
  stmt: SqliteStatementLike
  /** `get` gives the row's one value (`pluck`), not an array the driver made. */
  plucked: boolean
  /** `get` gives the row as an array of values (`raw`); neither: run, the first row's values. */
  raw: boolean
}

/** The part of a better-sqlite3 `Database` the adapter uses; `new Database(file)` fits. */
export interface SqliteDatabaseLike {
  prepare(source: string): SqliteStatementLike
}

/** Options of `sqliteClient`. */
export interface SqliteClientOptions {
  /**
   * Milliseconds a statement keeps retrying while another connection (Django, another process)
   * holds the lock, before it fails with SQLite's `SQLITE_BUSY`; a statement waiting for a
   * transaction of this client waits as long at most. The wait is asynchronous: the adapter sets
   * the connection's `busy_timeout` to 0 and retries on timers, so the event loop never stalls on
   * a lock. Every wait ending by itself, the SQL backend gives its loads and saves no deadline of
   * their own (`SqlClient.waitsBounded`); 0 waits for no lock, and for this client's transactions
   * as long as they last (the backend's calls then keep the session's `timeout`). @default 5000
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
/** True when `gate` settles within `ms`, false when the time passes first (its timer then cleared). */
const openedWithin = (gate: Promise<void>, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    void gate.then(() => {
      clearTimeout(timer)
      resolve(true)
    })
  })
/** What a statement that waited `lockWaitMs` for this client's own transaction fails with. */
const transactionBusy = (lockWaitMs: number) =>
  Object.assign(
    new Error(
      `@sessionbridge/sql sqliteClient: a transaction of this client held the database for lockWaitMs (${lockWaitMs} ms)`,
    ),
    { code: 'SQLITE_BUSY' },
  )

// `run` and `get` with the session statements' arities written out: called with a spread, a method
// of the addon is reached through V8's generic path for API calls (its receiver's template checked
// in the runtime, about 300 instructions a statement more than a call of known arity).
const ran = (stmt: SqliteStatementLike, v: never[]): { changes: number } => {
  switch (v.length) {
    case 1:
      return stmt.run(v[0]!)
    case 2:
      return stmt.run(v[0]!, v[1]!)
    case 3:
      return stmt.run(v[0]!, v[1]!, v[2]!)
    case 4:
      return stmt.run(v[0]!, v[1]!, v[2]!, v[3]!)
    default:
      return stmt.run(...v)
  }
}
const got = (stmt: SqliteStatementLike, v: never[]): unknown => {
  switch (v.length) {
    case 1:
      return stmt.get!(v[0]!)
    case 2:
      return stmt.get!(v[0]!, v[1]!)
    default:
      return stmt.get!(...v)
  }
}

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
  // `queryRow`'s statements: prepared apart, since `raw()` and `pluck()` change what one returns.
  const rowStatements = new Map<string, RowStatement>()
  const bounded = <T>(cache: Map<string, T>, sql: string, value: T): T => {
    if (cache.size >= 200) cache.delete(cache.keys().next().value!)
    cache.set(sql, value)
    return value
  }
  // The statement each way asked for last, found by the text's reference: a session's save and its
  // load are one text each, and a `Map` lookup by text cost about 100 instructions a statement.
  let lastSql: string | null = null
  let lastStatement: SqliteStatementLike | null = null
  let lastRowSql: string | null = null
  let lastRow: RowStatement | null = null
  const prepared = (sql: string): SqliteStatementLike => {
    if (sql === lastSql) return lastStatement!
    lastStatement = statements.get(sql) ?? bounded(statements, sql, db.prepare(sql))
    lastSql = sql
    return lastStatement
  }
  const rowStatement = (sql: string): RowStatement => {
    if (sql === lastRowSql) return lastRow!
    const known = rowStatements.get(sql) ?? preparedRow(sql)
    lastRow = known
    lastRowSql = sql
    return known
  }
  /**
   * A statement of one column gives its value (`pluck`): better-sqlite3 makes a row's array through
   * V8's API, about 1.9k instructions of a native load's `get` (10.8k against 9.0k in a loop).
   * better-sqlite3 refuses both modes for a statement that returns no rows (`readRow` runs it).
   */
  const preparedRow = (sql: string): RowStatement => {
    const stmt = db.prepare(sql)
    const reads = stmt.reader && typeof stmt.get === 'function'
    const plucked = reads && typeof stmt.pluck === 'function' && stmt.columns?.().length === 1
    const raw = reads && !plucked && typeof stmt.raw === 'function'
    if (plucked) stmt.pluck!(true)
    else if (raw) stmt.raw!(true)
    return bounded(rowStatements, sql, { stmt, plucked, raw })
  }
  const run = <Row>(sql: string, params: readonly unknown[] = []): SqlResult<Row> =>
    runPrepared<Row>(prepared(sql), params)
  const runPrepared = <Row>(stmt: SqliteStatementLike, params: readonly unknown[]): SqlResult<Row> => {
    const values = bindable(params)
    if (stmt.reader) {
      const rows = stmt.all(...values) as Row[] // rare in the session path: no arity written out
      return { rows, rowCount: rows.length }
    }
    return { rows: [], rowCount: ran(stmt, values).changes }
  }
  /** The first row as `get` gives it (plucked: its value), `undefined` for none. */
  const readRow = (row: RowStatement, params: readonly unknown[] = []): unknown => {
    if (row.plucked || row.raw) return got(row.stmt, bindable(params))
    // A statement without rows, or a driver without get()/raw(): `run`'s first row, as values.
    const first = runPrepared<Record<string, unknown>>(row.stmt, params).rows[0]
    return first && Object.values(first)
  }
  /** The first row as values, for a retry (`firstWaiting` makes the common one). */
  const first = (sql: string, params?: readonly unknown[]): unknown[] | undefined => {
    const row = rowStatement(sql)
    const value = readRow(row, params)
    return value === undefined || !row.plucked ? (value as unknown[] | undefined) : [value]
  }

  /**
   * The failed first attempt's answer: `attempt()` retried on timers while another connection holds
   * the lock, up to `lockWaitMs`; any other error rejects at once.
   */
  const waitingAfter = <T>(error: unknown, attempt: () => T): Promise<T> => {
    // The wait counts from the failed attempt (which ran in this process, without waiting): no
    // clock reading for the statements that succeed at once (about 200 instructions each).
    if (!isBusy(error) || lockWaitMs === 0) return Promise.reject(error)
    return retryWaiting(attempt, Date.now() + lockWaitMs)
  }
  const retryWaiting = async <T>(attempt: () => T, deadline: number): Promise<T> => {
    for (let delay = 2; ; delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS)) {
      await sleep(Math.min(delay, deadline - Date.now()))
      try {
        return attempt()
      } catch (error) {
        if (!isBusy(error) || deadline - Date.now() <= 0) throw error
      }
    }
  }
  // The first attempt runs at once and, when it succeeds (almost always), costs one settled
  // promise: no closure is made for it, and the promise is fulfilled with an object made where it
  // is, whose shape the optimizing compiler knows to have no `then` (a promise resolved with any
  // other object looks one up: about 330 instructions, a Fastify SQLite read's only one).
  const runWaiting = <Row>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>> => {
    let result: SqlResult<Row>
    try {
      result = run<Row>(sql, params)
    } catch (error) {
      return waitingAfter(error, () => run<Row>(sql, params))
    }
    return Promise.resolve({ rows: result.rows, rowCount: result.rowCount })
  }
  const firstWaiting = (sql: string, params?: readonly unknown[]): Promise<unknown[] | undefined> => {
    let row: RowStatement
    let value: unknown
    try {
      row = rowStatement(sql)
      value = readRow(row, params)
    } catch (error) {
      return waitingAfter(error, () => first(sql, params))
    }
    if (value === undefined) return Promise.resolve(undefined)
    // The native layout's load: one column, its value in an array made here.
    if (row.plucked) return Promise.resolve([value])
    return Promise.resolve(value as unknown[])
  }

  let gate: Promise<void> | null = null
  /**
   * Waits for the transaction open now (`open`) to end. The wait is bounded as a lock held by
   * another connection is: past `deadline` (`lockWaitMs` from the first wait) it fails with
   * `SQLITE_BUSY`, so every wait of the client ends by itself (`waitsBounded`; an `update` whose
   * function never settles holds its transaction open). With `lockWaitMs` 0 it waits as long as
   * the transaction lasts. Callers check `gate` again after it: another may have opened one since.
   */
  const transactionEnded = async (open: Promise<void>, deadline: number): Promise<void> => {
    if (lockWaitMs === 0) return open
    const left = deadline - Date.now()
    if (left <= 0 || !(await openedWithin(open, left))) throw transactionBusy(lockWaitMs)
  }
  /** A statement that arrived during a transaction: it runs once no transaction is open. */
  const afterGate = async <T>(attempt: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + lockWaitMs
    while (gate) await transactionEnded(gate, deadline)
    return attempt()
  }
  const tx: SqlClient = {
    dialect: 'sqlite',
    query: (sql, params) => runWaiting(sql, params),
    queryRow: (sql, params) => firstWaiting(sql, params),
    transaction: (fn) => fn(tx),
  }
  return {
    dialect: 'sqlite',
    query<Row>(sql: string, params?: readonly unknown[]) {
      return gate ? afterGate(() => runWaiting<Row>(sql, params)) : runWaiting<Row>(sql, params)
    },
    queryRow(sql, params) {
      return gate ? afterGate(() => firstWaiting(sql, params)) : firstWaiting(sql, params)
    },
    // The first attempt without a promise; `null` where `query`/`queryRow` would wait.
    queryAtOnce<Row>(sql: string, params?: readonly unknown[]) {
      if (gate) return null
      try {
        return run<Row>(sql, params)
      } catch (error) {
        if (isBusy(error)) return null
        throw error
      }
    },
    queryRowAtOnce(sql, params) {
      if (gate) return null
      try {
        return first(sql, params)
      } catch (error) {
        if (isBusy(error)) return null
        throw error
      }
    },
    waitsBounded: lockWaitMs > 0,
    async transaction(fn) {
      if (gate) {
        const deadline = Date.now() + lockWaitMs
        while (gate) await transactionEnded(gate, deadline)
      }
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

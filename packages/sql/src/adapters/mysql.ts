import type { SqlClient, SqlResult } from '../client.ts'

/** What `mysqlClient` needs of a mysql2/promise pool or connection: prepared `execute`. */
export interface MysqlQueryable {
  execute(sql: string, values?: never): Promise<[unknown, unknown]>
}

/** A mysql2 callback pool's `execute` (`pool.pool` of a mysql2/promise pool). */
export interface MysqlCallbackPoolLike {
  execute(sql: string, values: never, callback: (error: Error | null, result: never) => void): unknown
}

/** A mysql2 callback connection (`connection` of a mysql2/promise one): `execute` and `query`. */
export interface MysqlCallbackConnectionLike extends MysqlCallbackPoolLike {
  query(sql: string, callback: (error: Error | null) => void): unknown
}

/** A connection checked out of a mysql2/promise pool. */
export interface MysqlPoolConnectionLike extends MysqlQueryable {
  beginTransaction(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  release(): void
  destroy(): void
  /**
   * The callback connection under a mysql2/promise one (`MysqlCallbackConnectionLike`, checked when
   * used: mysql2's types give it the promise one's methods): a transaction's statements run on it.
   */
  readonly connection?: unknown
}

/** The part of a mysql2/promise `Pool` the adapter uses; `mysql.createPool(...)` fits. */
export interface MysqlPoolLike extends MysqlQueryable {
  getConnection(): Promise<MysqlPoolConnectionLike>
  /** The callback pool under a mysql2/promise pool: statements outside transactions run on it. */
  readonly pool?: MysqlCallbackPoolLike
}

function resultOf<Row>([result]: [unknown, unknown]): SqlResult<Row> {
  if (Array.isArray(result)) return { rows: result as Row[], rowCount: result.length }
  const header = result as { affectedRows?: number }
  return { rows: [], rowCount: header.affectedRows ?? 0 }
}

/** One statement; `then` rather than an async wrapper, one promise less per statement. */
function run<Row>(
  conn: MysqlQueryable,
  sql: string,
  params: readonly unknown[] = [],
): Promise<SqlResult<Row>> {
  try {
    return conn.execute(sql, params as never).then(resultOf<Row>)
  } catch (error) {
    return Promise.reject(error) // a driver that throws at once still rejects, as before
  }
}

/**
 * A pooled connection the server has already closed (after `max_allowed_packet`, a restart, a
 * `KILL`) fails at the socket write: the statement never reached the server, so running it once
 * more, on another connection, is safe.
 */
function neverSent(error: unknown): boolean {
  const e = error as { fatal?: unknown; syscall?: unknown; code?: unknown } | null
  return Boolean(e && e.fatal === true && (e.syscall === 'write' || e.code === 'EPIPE'))
}

/**
 * One statement on mysql2's callback pool. Its promise wrapper captures a stack trace per statement
 * while the pool's `trace` option is on (mysql2's default): through every optimized frame of the
 * request, about 65k instructions (a session read on MariaDB under Fastify: 196.2k a request
 * through the wrapper, 130.6k without); a statement of the backend's gains nothing by it, its
 * failure reaches the app as the backend's own error, with the driver's as `cause`.
 */
function runOnCallbacks<Row>(
  pool: MysqlCallbackPoolLike,
  sql: string,
  params: readonly unknown[] = [],
): Promise<SqlResult<Row>> {
  return new Promise((resolve, reject) => {
    pool.execute(sql, params as never, (error: Error | null, result: unknown) =>
      error ? reject(error) : resolve(resultOf<Row>([result, undefined])),
    )
  })
}

/** `pool`'s statements, retried once when never sent; on `callbackPool` when it has one. */
function runPooled<Row>(
  pool: MysqlPoolLike,
  callbackPool: MysqlCallbackPoolLike | null,
  sql: string,
  params?: readonly unknown[],
): Promise<SqlResult<Row>> {
  const once = () =>
    callbackPool ? runOnCallbacks<Row>(callbackPool, sql, params) : run<Row>(pool, sql, params)
  return once().then(undefined, (error: unknown) => {
    if (!neverSent(error)) throw error
    return once()
  })
}

/** The callback connection under `conn`, when it has one (what mysql2's `beginTransaction()` and the rest send). */
const callbackConnection = (conn: MysqlPoolConnectionLike): MysqlCallbackConnectionLike | null => {
  const inner = conn.connection as Partial<MysqlCallbackConnectionLike> | null | undefined
  return typeof inner?.execute === 'function' && typeof inner.query === 'function'
    ? (inner as MysqlCallbackConnectionLike)
    : null
}

/**
 * An `SqlClient` over a mysql2/promise pool (MySQL or MariaDB). Statements are server-side
 * prepared (`execute`), every value bound, outside transactions on the callback pool under it
 * (`pool.pool`, see `runOnCallbacks`), in transactions on the connection's (`transaction` checks
 * one out with `getConnection()`). Keep mysql2's default `FOUND_ROWS` flag: row counts mean "rows matched".
 */
export function mysqlClient(pool: MysqlPoolLike): SqlClient {
  const callbackPool = typeof pool.pool?.execute === 'function' ? pool.pool : null
  return {
    dialect: 'mysql',
    query: (sql, params) => runPooled(pool, callbackPool, sql, params),
    async transaction(fn) {
      const conn = await pool.getConnection()
      const callbacks = callbackConnection(conn)
      const control = (statement: string, promised: () => Promise<void>): Promise<void> =>
        callbacks
          ? new Promise((resolve, reject) =>
              callbacks.query(statement, (error) => (error ? reject(error) : resolve())),
            )
          : promised()
      let broken = false
      try {
        await control('START TRANSACTION', () => conn.beginTransaction())
        const tx: SqlClient = {
          dialect: 'mysql',
          query: (sql, params) =>
            callbacks ? runOnCallbacks(callbacks, sql, params) : run(conn, sql, params),
          transaction: (f) => f(tx),
        }
        const result = await fn(tx)
        await control('COMMIT', () => conn.commit())
        return result
      } catch (error) {
        try {
          await control('ROLLBACK', () => conn.rollback())
        } catch {
          broken = true // the connection died: never hand it back to the pool
        }
        throw error
      } finally {
        if (broken) conn.destroy()
        else conn.release()
      }
    },
  }
}

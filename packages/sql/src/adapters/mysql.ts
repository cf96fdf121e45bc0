import type { SqlClient, SqlResult } from '../client.ts'
import {
  type MysqlCallbackPoolLike,
  neverSent,
  pooledStatements,
  type RunStatement,
  resultOf,
} from './mysql-pooled.ts'

export type { MysqlCallbackPoolLike, MysqlPooledConnectionLike, MysqlPreparedLike } from './mysql-pooled.ts'

/** What `mysqlClient` needs of a mysql2/promise pool or connection: prepared `execute`. */
export interface MysqlQueryable {
  execute(sql: string, values?: never): Promise<[unknown, unknown]>
}

/** A mysql2 callback connection (`connection` of a mysql2/promise one): `execute` and `query`. */
export interface MysqlCallbackConnectionLike {
  execute(sql: string, values: never, callback: (error: Error | null, result: never) => void): unknown
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

/** One statement; `then` rather than an async wrapper, one promise less per statement. */
function run<Row>(
  conn: MysqlQueryable,
  sql: string,
  params: readonly unknown[] = [],
): Promise<SqlResult<Row>> {
  try {
    return conn.execute(sql, params as never).then(([result]) => resultOf<Row>(result))
  } catch (error) {
    return Promise.reject(error) // a driver that throws at once still rejects, as before
  }
}

/** One statement of a transaction on its callback connection (see `pooledStatements` for why). */
function runOnConnection<Row>(
  conn: MysqlCallbackConnectionLike,
  sql: string,
  params: readonly unknown[] = [],
): Promise<SqlResult<Row>> {
  return new Promise((resolve, reject) => {
    conn.execute(sql, params as never, (error: Error | null, result: unknown) =>
      error ? reject(error) : resolve(resultOf<Row>(result)),
    )
  })
}

/** `pool`'s statements through its promise API, retried once when never sent. */
const promisedStatements =
  (pool: MysqlPoolLike): RunStatement =>
  <Row>(sql: string, params?: readonly unknown[]) =>
    run<Row>(pool, sql, params).then(undefined, (error: unknown) => {
      if (!neverSent(error)) throw error
      return run<Row>(pool, sql, params)
    })

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
 * (`pool.pool`, see `pooledStatements`: each connection's statements prepared once and kept), in
 * transactions on the connection's (`transaction` checks one out with `getConnection()`). Keep
 * mysql2's default `FOUND_ROWS` flag: row counts mean "rows matched".
 */
export function mysqlClient(pool: MysqlPoolLike): SqlClient {
  const statement =
    typeof pool.pool?.execute === 'function' ? pooledStatements(pool.pool) : promisedStatements(pool)
  return {
    dialect: 'mysql',
    query: (sql, params) => statement(sql, params),
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
            callbacks ? runOnConnection(callbacks, sql, params) : run(conn, sql, params),
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

import type { SqlClient, SqlResult } from '../client.ts'

/** What `mysqlClient` needs of a mysql2/promise pool or connection: prepared `execute`. */
export interface MysqlQueryable {
  execute(sql: string, values?: never): Promise<[unknown, unknown]>
}

/** A connection checked out of a mysql2/promise pool. */
export interface MysqlPoolConnectionLike extends MysqlQueryable {
  beginTransaction(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  release(): void
  destroy(): void
}

/** The part of a mysql2/promise `Pool` the adapter uses; `mysql.createPool(...)` fits. */
export interface MysqlPoolLike extends MysqlQueryable {
  getConnection(): Promise<MysqlPoolConnectionLike>
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

function runPooled<Row>(
  pool: MysqlQueryable,
  sql: string,
  params?: readonly unknown[],
): Promise<SqlResult<Row>> {
  return run<Row>(pool, sql, params).then(undefined, (error: unknown) => {
    if (!neverSent(error)) throw error
    return run<Row>(pool, sql, params)
  })
}

/**
 * An `SqlClient` over a mysql2/promise pool (MySQL or MariaDB). Statements are server-side
 * prepared (`execute`), every value bound; `transaction` checks one connection out with
 * `getConnection()`. Keep mysql2's default `FOUND_ROWS` flag: row counts mean "rows matched".
 */
export function mysqlClient(pool: MysqlPoolLike): SqlClient {
  return {
    dialect: 'mysql',
    query: (sql, params) => runPooled(pool, sql, params),
    async transaction(fn) {
      const conn = await pool.getConnection()
      let broken = false
      try {
        await conn.beginTransaction()
        const tx: SqlClient = {
          dialect: 'mysql',
          query: (sql, params) => run(conn, sql, params),
          transaction: (f) => f(tx),
        }
        const result = await fn(tx)
        await conn.commit()
        return result
      } catch (error) {
        try {
          await conn.rollback()
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

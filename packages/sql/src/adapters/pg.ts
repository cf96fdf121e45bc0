import type { SqlClient, SqlResult } from '../client.ts'

/** What `pgClient` needs of a `pg` connection: `query(text, values)`. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>
}

/** A connection checked out of a `pg` pool. */
export interface PgPoolClientLike extends PgQueryable {
  /** `release(error)` destroys the connection instead of returning it to the pool. */
  release(destroy?: Error | boolean): void
  on?(event: 'error', listener: (error: Error) => void): unknown
  removeListener?(event: 'error', listener: (error: Error) => void): unknown
}

/** The part of `pg.Pool` the adapter uses; a real `pg.Pool` fits. */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgPoolClientLike>
}

function resultOf<Row>(result: { rows: unknown[]; rowCount: number | null }): SqlResult<Row> {
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length }
}

/** One statement; `then` rather than an async wrapper, one promise less per statement. */
function run<Row>(conn: PgQueryable, sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
  try {
    return conn.query(sql, params as unknown[]).then(resultOf<Row>)
  } catch (error) {
    return Promise.reject(error) // a driver that throws at once still rejects, as before
  }
}

function joined(conn: PgQueryable): SqlClient {
  const tx: SqlClient = {
    dialect: 'postgres',
    query: (sql, params) => run(conn, sql, params),
    // A transaction inside a transaction joins the outer one.
    transaction: (fn) => fn(tx),
  }
  return tx
}

/**
 * An `SqlClient` over a `pg` pool (node-postgres). Statements run on the pool; `transaction` checks
 * one connection out with `pool.connect()`. The pool stays yours: add `pool.on('error', ...)` so
 * a connection the server kills while idle does not crash the process (pg's own advice).
 */
export function pgClient(pool: PgPoolLike): SqlClient {
  return {
    dialect: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async transaction(fn) {
      const conn = await pool.connect()
      let broken: Error | undefined
      // pg emits 'error' on a checked-out client whose socket dies; unheard, it would crash the process.
      const onError = (error: Error) => {
        broken = error
      }
      conn.on?.('error', onError)
      try {
        await conn.query('BEGIN')
        const result = await fn(joined(conn))
        await conn.query('COMMIT')
        return result
      } catch (error) {
        try {
          await conn.query('ROLLBACK')
        } catch (rollbackError) {
          // The connection is unusable (killed, reset): drop it rather than hand it back.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))
        }
        throw error
      } finally {
        conn.removeListener?.('error', onError)
        conn.release(broken)
      }
    },
  }
}

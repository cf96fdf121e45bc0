import type { SqlResult } from '../client.ts'

/** A mysql2 prepared statement (`PreparedStatementInfo`): `execute` runs it as it is. */
export interface MysqlPreparedLike {
  execute(values: never, callback: (error: Error | null, result: unknown) => void): unknown
}

/** A connection checked out of mysql2's callback pool (`PoolConnection`). */
export interface MysqlPooledConnectionLike {
  prepare(sql: string, callback: (error: Error | null, statement: MysqlPreparedLike) => void): unknown
  release(): void
  destroy(): void
}

/** A mysql2 callback pool (`pool.pool` of a mysql2/promise pool). */
export interface MysqlCallbackPoolLike {
  execute(sql: string, values: never, callback: (error: Error | null, result: never) => void): unknown
  /** mysql2's: when present, statements run prepared on each connection (`pooledStatements`). */
  getConnection?(callback: (error: Error | null, connection: MysqlPooledConnectionLike) => void): unknown
}

/** One statement's runner: resolves with its rows or its row count. */
export type RunStatement = <Row>(sql: string, params?: readonly unknown[]) => Promise<SqlResult<Row>>

// The server no longer knows the statement: mysql2's cache of prepared statements (its
// `maxPreparedStatements`) closed it since it was kept here. Prepared again, it runs once more.
const ER_UNKNOWN_STMT_HANDLER = 1243
// mysql2's pool destroys a connection that answers these (a failover's old primary), as here.
const READ_ONLY_ERRNOS: readonly unknown[] = [1290, 1792, 1836]
// Statements kept per connection; past it they are forgotten (mysql2 still holds them).
const MAX_KEPT = 256

/** A mysql2 result as the client's: rows of a SELECT, else the header's matched-row count. */
export function resultOf<Row>(result: unknown): SqlResult<Row> {
  if (Array.isArray(result)) return { rows: result as Row[], rowCount: result.length }
  const header = result as { affectedRows?: number }
  return { rows: [], rowCount: header.affectedRows ?? 0 }
}

/**
 * A pooled connection the server has already closed (after `max_allowed_packet`, a restart, a
 * `KILL`) fails at the socket write: the statement never reached the server, so running it once
 * more, on another connection, is safe.
 */
export function neverSent(error: unknown): boolean {
  const e = error as { fatal?: unknown; syscall?: unknown; code?: unknown } | null
  return Boolean(e && e.fatal === true && (e.syscall === 'write' || e.code === 'EPIPE'))
}

/**
 * Statements on mysql2's callback pool, retried once on another connection when never sent. Its
 * promise wrapper captures a stack trace per statement while the pool's `trace` option is on
 * (mysql2's default): through every optimized frame of the request, about 65k instructions.
 *
 * Where the pool checks connections out (`getConnection`), each connection's prepared statements
 * are kept here by their text and run as they are: `pool.execute` makes a prepare command per
 * statement, whose lookup builds a key of the whole text and hashes it (a Fastify increment on
 * MariaDB: 5.1k instructions for three lookups, against the limit's 1.9k for its two short
 * statements). A statement mysql2 has since closed is prepared again.
 */
export function pooledStatements(pool: MysqlCallbackPoolLike): RunStatement {
  const kept = new WeakMap<MysqlPooledConnectionLike, Map<string, MysqlPreparedLike>>()
  type Done = (error: Error | null, result: unknown) => void

  /** `step()` on a checked-out connection; what it throws gives the connection back and fails. */
  const safely = (conn: MysqlPooledConnectionLike, done: Done, step: () => unknown): void => {
    try {
      step()
    } catch (error) {
      conn.release()
      done(error as Error, undefined)
    }
  }
  const prepareOn = (
    conn: MysqlPooledConnectionLike,
    statements: Map<string, MysqlPreparedLike>,
    sql: string,
    params: readonly unknown[],
    done: Done,
  ): unknown =>
    conn.prepare(sql, (error, statement) => {
      if (error) {
        conn.release()
        return done(error, undefined)
      }
      if (statements.size >= MAX_KEPT) statements.clear()
      statements.set(sql, statement)
      safely(conn, done, () => executeOn(conn, statements, sql, statement, params, done, true))
    })
  const executeOn = (
    conn: MysqlPooledConnectionLike,
    statements: Map<string, MysqlPreparedLike>,
    sql: string,
    statement: MysqlPreparedLike,
    params: readonly unknown[],
    done: Done,
    fresh: boolean,
  ): unknown =>
    statement.execute(params as never, (error, result) => {
      const errno = error ? (error as { errno?: unknown }).errno : undefined
      if (errno === ER_UNKNOWN_STMT_HANDLER && !fresh) {
        statements.delete(sql)
        return safely(conn, done, () => prepareOn(conn, statements, sql, params, done))
      }
      if (errno !== undefined && READ_ONLY_ERRNOS.includes(errno)) conn.destroy()
      else conn.release()
      done(error ?? null, result)
    })
  const onConnection = (
    conn: MysqlPooledConnectionLike,
    sql: string,
    params: readonly unknown[],
    done: Done,
  ) => {
    let statements = kept.get(conn)
    if (statements === undefined) {
      statements = new Map()
      kept.set(conn, statements)
    }
    const statement = statements.get(sql)
    try {
      if (statement === undefined) prepareOn(conn, statements, sql, params, done)
      else executeOn(conn, statements, sql, statement, params, done, false)
    } catch (error) {
      conn.release()
      done(error as Error, undefined)
    }
  }

  const getConnection = pool.getConnection?.bind(pool)
  /** One attempt: a connection and its prepared statement, or the pool's `execute`. */
  const attempt = (sql: string, params: readonly unknown[], done: Done): void => {
    try {
      if (getConnection === undefined) pool.execute(sql, params as never, done)
      else
        getConnection((error, conn) =>
          error ? done(error, undefined) : onConnection(conn, sql, params, done),
        )
    } catch (error) {
      done(error as Error, undefined)
    }
  }

  return <Row>(sql: string, params: readonly unknown[] = []) =>
    new Promise<SqlResult<Row>>((resolve, reject) => {
      // As mysql2's own `execute` refuses them (a prepared statement would send them as NULL).
      if (params.includes(undefined)) {
        return reject(
          new TypeError('Bind parameters must not contain undefined. To pass SQL NULL specify JS null'),
        )
      }
      let retried = false
      const done: Done = (error, result) => {
        if (!error) return resolve(resultOf<Row>(result))
        if (retried || !neverSent(error)) return reject(error)
        retried = true
        attempt(sql, params, done)
      }
      attempt(sql, params, done)
    })
}

import type { SqlClient, SqlResult } from '../client.ts'

/**
 * A `pg` query config naming its statement: each connection parses it once. `pgClient` passes one
 * whose `name` and `text` are inherited, the values in `query`'s second argument (see `namedQuery`).
 */
export interface PgNamedQuery {
  readonly name: string
  readonly text: string
}

/**
 * What `pgClient` needs of a `pg` connection: `query(text, values)` and `query({ name, text },
 * values)`, as `pg`'s `Pool` and `Client` take them.
 */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>
  query(config: PgNamedQuery, values: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>
}

/** Options of `pgClient`. */
export interface PgClientOptions {
  /**
   * Runs the backend's statements (not those inside a transaction) as named prepared statements:
   * each connection parses a statement once, and later runs send only its values: the server
   * parses nothing per request; the app's side costs about the same as unnamed (sql README).
   * Turn it off behind a pooler that does not keep prepared statements per client (PgBouncer in
   * transaction mode with `max_prepared_statements = 0`); the client also turns it off by itself
   * the first time the server answers that a named statement is missing or already exists, and
   * runs that statement again unnamed (it did not run). @default true
   */
  preparedStatements?: boolean
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

/**
 * One statement, named when `named` is given (`namedQuery`); `then` rather than an async wrapper,
 * one promise less per statement. `onRejected` takes the driver's failure in the same `then`.
 */
function run<Row>(
  conn: PgQueryable,
  sql: string,
  params: readonly unknown[] = [],
  named?: PgNamedQuery,
  onRejected?: (error: unknown) => SqlResult<Row> | Promise<SqlResult<Row>>,
): Promise<SqlResult<Row>> {
  try {
    const values = params as unknown[]
    // A new object inheriting the statement: pg (8.16 and later) copies a config's own properties
    // per query, through property descriptors (about 0.6 µs a property), and older pg writes the
    // values and its callback into the config it is given.
    const answer = named === undefined ? conn.query(sql, values) : conn.query(Object.create(named), values)
    return answer.then(resultOf<Row>, onRejected)
  } catch (error) {
    if (onRejected) return Promise.reject(error).catch(onRejected)
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
 * An `SqlClient` over a `pg` pool (node-postgres). Statements run on the pool, named (see
 * `PgClientOptions`); `transaction` checks one connection out with `pool.connect()`. The pool
 * stays yours: add `pool.on('error', ...)` so a connection the server kills while idle does not
 * crash the process (pg's own advice).
 */
export function pgClient(pool: PgPoolLike, options: PgClientOptions = {}): SqlClient {
  const named = options.preparedStatements === false ? null : namedRunner(pool)
  return {
    dialect: 'postgres',
    query: named ?? ((sql, params) => run(pool, sql, params)),
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

/** Most statement texts one process names; later ones run unnamed (the backend has a few dozen). */
const MAX_NAMES = 256
const named = new Map<string, PgNamedQuery | null>()

/**
 * The statement's `{ name, text }` (frozen, the prototype of each run's config), its name the same
 * in every process and copy of this module for the same text (a pg connection refuses one name for
 * two texts); `null` for what is not worth preparing (DDL).
 */
function namedQuery(sql: string): PgNamedQuery | null {
  let statement = named.get(sql)
  if (statement !== undefined) return statement
  // Past the cap, unnamed: every connection would otherwise keep every text it ever ran.
  if (named.size >= MAX_NAMES) return null
  statement = /^\s*(select|insert|update|delete|with)\b/i.test(sql)
    ? Object.freeze({ name: `sb_${hash64(sql)}`, text: sql })
    : null
  named.set(sql, statement)
  return statement
}

/** 64 bits of two FNV-1a hashes over the text's UTF-16 code units, hex. */
function hash64(text: string): string {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    a = Math.imul(a ^ code, 0x01000193)
    b = Math.imul(b ^ code, 0x5bd1e995)
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')
}

/** SQLSTATEs of a named statement its connection does not hold as pg believes: it did not run. */
const UNPREPARED = new Set(['26000', '42P05'])
const isUnprepared = (error: unknown): boolean => {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  if (typeof code !== 'string') return false
  // 0A000 "cached plan must not change result type": the table changed under a prepared statement.
  return (
    UNPREPARED.has(code) ||
    (code === '0A000' && typeof message === 'string' && message.includes('cached plan'))
  )
}

/** Runs statements named until the server shows it does not keep them, then unnamed for good. */
function namedRunner(pool: PgQueryable): SqlClient['query'] {
  let prepared = true
  return <Row>(sql: string, params?: readonly unknown[]) => {
    const statement = prepared ? namedQuery(sql) : null
    if (statement === null) return run<Row>(pool, sql, params)
    // The retry in the same `then` as the result: a promise less per statement than a `catch`.
    return run<Row>(pool, sql, params, statement, (error: unknown) => {
      if (!isUnprepared(error)) throw error
      prepared = false
      return run<Row>(pool, sql, params)
    })
  }
}

/** The SQL dialects sessionbridge speaks. */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite'

/** What one statement returned. */
export interface SqlResult<Row = Record<string, unknown>> {
  rows: Row[]
  /** Rows changed by INSERT/UPDATE/DELETE (or returned by SELECT). */
  rowCount: number
}

/**
 * The one interface the SQL backend (and `@sessionbridge/django`'s users) talk to. Statements are
 * written in the dialect's own placeholder syntax, `$1, $2, ...` on PostgreSQL and `?` on MySQL/
 * MariaDB and SQLite (`sqlStatement(dialect, (p) => ...)` writes either), and adapters pass them to
 * the driver unchanged. Values are always bound, never spliced into the text.
 */
export interface SqlClient {
  readonly dialect: SqlDialect
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>>
  /**
   * The first row of a statement that selects at most one (a lookup by key), as its columns' values
   * in the order selected, or `undefined` when it selects none. Optional: without it the backend
   * reads `query()`'s first row. `sqliteClient` has it: better-sqlite3 on Node < 22 builds a row
   * object through V8's API one named property at a time (about 2k instructions a column, a third of
   * a session read on SQLite), a row of values without the names.
   */
  queryRow?(sql: string, params?: readonly unknown[]): Promise<unknown[] | undefined>
  /**
   * `query` run synchronously when the client can answer at once; `null` when the statement must
   * wait (then call `query`, which waits). Optional: `sqliteClient` has it (a synchronous driver),
   * and answers unless a transaction of its own is open or another connection holds the lock. The
   * backend's SQLite loads and saves then take no `await` (about 500 instructions each). Throws
   * what `query` rejects with.
   */
  queryAtOnce?<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): SqlResult<Row> | null
  /** `queryRow` the same way: the row's values, `undefined` for none, `null` when it must wait. */
  queryRowAtOnce?(sql: string, params?: readonly unknown[]): unknown[] | undefined | null
  /** Runs `fn` on one connection inside a transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>
  /**
   * `true` when a transaction may write only once (`d1Client`: D1 has no interactive
   * transactions). Options that need two writes in one transaction (`userTable`) refuse such a
   * client at startup. @default false
   */
  readonly singleWriteTransactions?: boolean
  /**
   * `true` when every statement settles at once or after a wait the client bounds itself, no I/O
   * that could hang (`sqliteClient`: a synchronous driver, lock waits up to `lockWaitMs`). The
   * backend then runs its loads and saves without a deadline of their own (a promise, a queue slot
   * and a clock reading: about 1k instructions a call). @default false
   */
  readonly waitsBounded?: boolean
}

/** The SQL dialects sessionbridge speaks. */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite'

/** What one statement returned. */
export interface SqlResult<Row = Record<string, unknown>> {
  rows: Row[]
  /** Rows changed by INSERT/UPDATE/DELETE (or returned by SELECT). */
  rowCount: number
}

/**
 * The one interface the SQL backend (and `@sessionbridge/django`'s users) talk to. Statements use
 * `?` positional placeholders in every dialect; adapters for PostgreSQL rewrite them to `$n`.
 * Values are always bound, never spliced into the text.
 */
export interface SqlClient {
  readonly dialect: SqlDialect
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>>
  /** Runs `fn` on one connection inside a transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>
}

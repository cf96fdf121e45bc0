import { parseSqlDateTime, toDjangoSqlDateTime } from '@sessionbridge/core/adapter'

/**
 * The SQL client `djangoUsers` talks to: the same shape as `SqlClient` of `@sessionbridge/sql`
 * (whose `sqliteClient`, `pgClient` and `mysqlClient` fit as they are), declared here so this
 * package depends on core only. Statements are written in the dialect's own placeholder syntax,
 * `$1, $2, ...` on PostgreSQL and `?` on MySQL/MariaDB and SQLite (`sqlStatement` of
 * `@sessionbridge/core/adapter` writes either), and the client passes them to the driver unchanged.
 */
export interface DjangoSqlClient {
  readonly dialect: 'postgres' | 'mysql' | 'sqlite'
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: Row[]; rowCount: number }>
  transaction<T>(fn: (tx: DjangoSqlClient) => Promise<T>): Promise<T>
}

/** Quotes an identifier already checked by `checkIdentifier`. */
export function quoteIdent(dialect: DjangoSqlClient['dialect'], name: string): string {
  const q = dialect === 'mysql' ? '`' : '"'
  return name
    .split('.')
    .map((part) => q + part + q)
    .join('.')
}

/** Table and column names: letters, digits, `_`, optionally `schema.table`. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/

/** A date as the dialect's Django backend stores it (USE_TZ=True: UTC); core's one date module. */
export function toSqlDate(dialect: DjangoSqlClient['dialect'], date: Date): string {
  return toDjangoSqlDateTime(dialect, date.getTime())
}

/** A stored date back: a driver's `Date`, or Django's text (naive = UTC). `null` when unreadable. */
export function fromSqlDate(value: unknown): Date | null {
  const ms = parseSqlDateTime(value)
  return Number.isNaN(ms) ? null : new Date(ms)
}

/** A stored boolean: `true`/`false` (PostgreSQL), `1`/`0` (SQLite, MySQL). */
export function fromSqlBool(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't' || value === 'true'
}

/** A boolean as the dialect binds it (better-sqlite3 cannot bind `true`). */
export function toSqlBool(dialect: DjangoSqlClient['dialect'], value: boolean): boolean | number {
  return dialect === 'postgres' ? value : value ? 1 : 0
}

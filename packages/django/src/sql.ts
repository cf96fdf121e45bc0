/**
 * The SQL client `djangoUsers` talks to: the same shape as `SqlClient` of `@sessionbridge/sql`
 * (whose `sqliteClient`, `pgClient` and `mysqlClient` fit as they are), declared here so this
 * package depends on core only. Statements use `?` placeholders in every dialect.
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

/** A date as the dialect's Django backend stores it (USE_TZ=True: UTC). */
export function toSqlDate(dialect: DjangoSqlClient['dialect'], date: Date): string {
  if (dialect === 'postgres') return date.toISOString()
  // SQLite and MySQL: naive UTC text, as `str(datetime)`: fraction only when non-zero.
  const iso = date.toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = date.getUTCMilliseconds()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === 0 ? '' : `.${String(ms * 1000).padStart(6, '0')}`}`
}

/** A stored date back: a driver's `Date`, or Django's naive UTC text. `null` when unreadable. */
export function fromSqlDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value
  if (typeof value !== 'string') return null
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d{1,6})?(Z|[+-]\d\d:?\d\d)?$/.exec(value.trim())
  if (!m) return null
  const fraction = m[3] ? m[3].slice(0, 4).padEnd(4, '0') : ''
  const date = new Date(`${m[1]}T${m[2]}${fraction}${m[4] ?? 'Z'}`)
  return Number.isNaN(date.getTime()) ? null : date
}

/** A stored boolean: `true`/`false` (PostgreSQL), `1`/`0` (SQLite, MySQL). */
export function fromSqlBool(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't' || value === 'true'
}

/** A boolean as the dialect binds it (better-sqlite3 cannot bind `true`). */
export function toSqlBool(dialect: DjangoSqlClient['dialect'], value: boolean): boolean | number {
  return dialect === 'postgres' ? value : value ? 1 : 0
}

import { SessionBackendError, SessionConfigError, SessionDataError } from '@sessionbridge/core'
import { toDjangoSqlDateTime } from '@sessionbridge/core/adapter'
import type { SqlDialect } from './client.ts'

export const PKG = 'sql'

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,49}$/

/**
 * Validates a table name (`name` or `schema.name`, letters, digits and `_`, 50 characters at most
 * per part) and quotes it once for `dialect`. Anything else is a configuration error: table names
 * are the one thing in our SQL that cannot be bound.
 */
export function quoteTable(dialect: SqlDialect, table: unknown, option = 'table'): string {
  if (typeof table !== 'string') throw new SessionConfigError(PKG, option, '%s must be a string')
  const parts = table.split('.')
  if (parts.length > 2 || !parts.every((p) => NAME.test(p))) {
    throw new SessionConfigError(
      PKG,
      option,
      `%s must be "name" or "schema.name" of letters, digits and _ (50 at most each), got ${JSON.stringify(table)}`,
    )
  }
  return parts.map((p) => quoteName(dialect, p)).join('.')
}

/** Quotes one already validated identifier. */
export function quoteName(dialect: SqlDialect, name: string): string {
  return dialect === 'mysql' ? `\`${name}\`` : `"${name}"`
}

/** The unqualified part of a table name, for index names. */
export function baseName(table: string): string {
  return table.split('.').pop()!
}

/** The dialect of a client, checked, so a foreign object fails at startup rather than mid-request. */
export function checkDialect(dialect: unknown, option = 'client'): SqlDialect {
  if (dialect !== 'postgres' && dialect !== 'mysql' && dialect !== 'sqlite') {
    throw new SessionConfigError(
      PKG,
      option,
      '%s must be an SqlClient whose dialect is "postgres", "mysql" or "sqlite"',
    )
  }
  return dialect
}

/**
 * How the Django layout writes and reads `expire_date` on each database: core's one Django
 * date module (`toDjangoSqlDateTime`, `parseSqlDateTime`) plus the select expression that yields
 * text `parseSqlDateTime` reads whatever the driver's date settings (mysql2 would build a local
 * `Date` from a naive DATETIME).
 */
export interface DjangoTime {
  toDb(ms: number): string
  column: string
}

export function djangoTime(dialect: SqlDialect): DjangoTime {
  return {
    toDb: (ms) => toDjangoSqlDateTime(dialect, ms),
    column: dialect === 'mysql' ? 'CAST(expire_date AS CHAR)' : 'expire_date',
  }
}

/**
 * The typed error a driver failure stands for when it is not an outage: data the database refused
 * (a `SessionDataError` naming the limit), or an error the backend already typed. `null`: I/O failure.
 */
export function refusedData(error: unknown, operation: string): Error | null {
  if (error instanceof SessionDataError || error instanceof SessionBackendError) return error
  const limit = dataLimitOf(error)
  if (!limit) return null
  const message = error instanceof Error ? error.message : String(error)
  return new SessionDataError(
    PKG,
    `${operation}: the database refused the session data (${limit}): ${message}`,
    {
      cause: error,
    },
  )
}

/**
 * A name for the limit a database error hit when it refused a value for its size or content,
 * or `null` when the error is something else (then it is an I/O failure).
 */
function dataLimitOf(error: unknown): string | null {
  if (!error || typeof error !== 'object') return null
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  if (code === '54000') return 'PostgreSQL size limit (program_limit_exceeded)'
  if (code === '22P05') return 'PostgreSQL jsonb cannot hold \\u0000 or that character'
  if (code === '22001') return 'column length'
  if (code === 'ER_NET_PACKET_TOO_LARGE' || errno === 1153) return 'MySQL max_allowed_packet'
  if (code === 'ER_DATA_TOO_LONG' || errno === 1406) return 'MySQL column size'
  if (errno === 1301) return 'MySQL max_allowed_packet'
  if (code === 'SQLITE_TOOBIG') return 'SQLite SQLITE_MAX_LENGTH'
  return null
}

/** True for a duplicate-key error from any of the three databases. */
export function isDuplicateKey(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false
  const { code, errno } = error as { code?: unknown; errno?: unknown }
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    errno === 1062 ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  )
}

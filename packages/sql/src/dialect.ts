import { SessionConfigError } from '@sessionbridge/core'
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

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** `YYYY-MM-DD HH:MM:SS` plus `.ffffff` in UTC; Django's SQLite form drops a zero fraction. */
export function utcDateTime(ms: number, dropZeroFraction: boolean): string {
  const d = new Date(ms)
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  const millis = d.getUTCMilliseconds()
  return dropZeroFraction && millis === 0 ? base : `${base}.${pad(millis, 3)}000`
}

const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/

/** Epoch ms of a stored datetime: a `Date`, a number, or text (naive text is UTC). `NaN` if unreadable. */
export function parseDateTime(value: unknown): number {
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'number') return value
  if (typeof value !== 'string') return Number.NaN
  const m = DATETIME.exec(value.trim())
  if (!m) return Number.NaN
  const [, y, mo, d, h, mi, s, frac = '', zone] = m
  let ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Number(frac.padEnd(3, '0').slice(0, 3)),
  )
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000
  }
  return ms
}

/**
 * How the Django layout writes and reads `expire_date` on each database: PostgreSQL
 * `timestamptz` (an ISO instant), MySQL `datetime(6)` (naive UTC), SQLite TEXT in Django's
 * `str(datetime)` form with a space, naive UTC, which SQLite compares as text.
 */
export interface DjangoTime {
  toDb(ms: number): string
  /** The select expression that yields something `parseDateTime` reads, whatever the driver's date settings. */
  column: string
}

export function djangoTime(dialect: SqlDialect): DjangoTime {
  switch (dialect) {
    case 'postgres':
      return { toDb: (ms) => new Date(ms).toISOString(), column: 'expire_date' }
    case 'mysql':
      return { toDb: (ms) => utcDateTime(ms, false), column: 'CAST(expire_date AS CHAR)' }
    case 'sqlite':
      return { toDb: (ms) => utcDateTime(ms, true), column: 'expire_date' }
  }
}

/**
 * A name for the limit a database error hit when it refused a value for its size or content,
 * or `null` when the error is something else (then it is an I/O failure).
 */
export function dataLimitOf(error: unknown): string | null {
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

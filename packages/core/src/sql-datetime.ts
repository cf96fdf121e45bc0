/**
 * Django's datetimes in SQL, one module for every package that reads or writes them
 * (`@sessionbridge/sql`'s Django layout, `@sessionbridge/django`'s users). With `USE_TZ = True`
 * Django stores UTC: PostgreSQL `timestamptz` (bound as an ISO instant), MySQL/MariaDB
 * `datetime(6)` and SQLite text, both naive UTC in `str(datetime)` form: `YYYY-MM-DD HH:MM:SS`
 * plus `.ffffff` only when the fraction is not zero (SQLite compares these as text, so the form
 * must be Django's exactly). Web APIs only, no driver: it lives in core so both can import it.
 */

/** The SQL databases Django's datetimes are written for. */
export type SqlDateTimeDialect = 'postgres' | 'mysql' | 'sqlite'

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** A time as Django's backend for `dialect` binds it. */
export function toDjangoSqlDateTime(dialect: SqlDateTimeDialect, ms: number): string {
  const d = new Date(ms)
  if (dialect === 'postgres') return d.toISOString()
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  const millis = d.getUTCMilliseconds()
  return millis === 0 ? base : `${base}.${pad(millis, 3)}000`
}

const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/

/**
 * Epoch ms of a stored datetime, whatever the driver hands back: a `Date`, epoch ms, or text with
 * 0-9 fraction digits and an optional zone (`Z`, `+hh`, `+hhmm`, `+hh:mm`); naive text is UTC.
 * `NaN` when unreadable.
 */
export function parseSqlDateTime(value: unknown): number {
  if (value instanceof Date) return value.getTime()
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN
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

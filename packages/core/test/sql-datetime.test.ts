import { describe, expect, it } from 'vitest'
import { parseSqlDateTime, toDjangoSqlDateTime } from '../src/adapter.ts'

describe('Django datetimes in SQL (one module for sql and django)', () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 60)
  const whole = Date.UTC(2026, 0, 2, 3, 4, 5)

  it("writes Django's forms: ISO for PostgreSQL, str(datetime) for MySQL and SQLite", () => {
    expect(toDjangoSqlDateTime('postgres', at)).toBe('2026-01-02T03:04:05.060Z')
    for (const dialect of ['mysql', 'sqlite'] as const) {
      expect(toDjangoSqlDateTime(dialect, at)).toBe('2026-01-02 03:04:05.060000')
      expect(toDjangoSqlDateTime(dialect, whole)).toBe('2026-01-02 03:04:05')
    }
  })

  it('reads every form a driver hands back', () => {
    expect(parseSqlDateTime('2026-01-02 03:04:05.060000')).toBe(at)
    expect(parseSqlDateTime('2026-01-02T05:04:05.06+02:00')).toBe(at)
    expect(parseSqlDateTime('2026-01-02T05:04:05.06+0200')).toBe(at)
    expect(parseSqlDateTime('2026-01-02 03:04:05.06+00')).toBe(at)
    expect(parseSqlDateTime('2026-01-02 03:04:05.060000123Z')).toBe(at)
    expect(parseSqlDateTime('2026-01-02 03:04:05')).toBe(whole)
    expect(parseSqlDateTime(new Date(at))).toBe(at)
    expect(parseSqlDateTime(at)).toBe(at)
    expect(parseSqlDateTime('yesterday')).toBeNaN()
    expect(parseSqlDateTime(null)).toBeNaN()
    expect(parseSqlDateTime(Number.POSITIVE_INFINITY)).toBeNaN()
  })

  it('round-trips every dialect', () => {
    for (const dialect of ['postgres', 'mysql', 'sqlite'] as const) {
      for (const ms of [at, whole, 0, Date.UTC(9999, 11, 31, 23, 59, 59, 999)]) {
        expect(parseSqlDateTime(toDjangoSqlDateTime(dialect, ms))).toBe(ms)
      }
    }
  })
})

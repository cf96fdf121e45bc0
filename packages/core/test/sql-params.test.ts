import { describe, expect, it } from 'vitest'
import { sqlStatement } from '../src/adapter.ts'

describe('sqlStatement', () => {
  it("numbers PostgreSQL's parameters in the order they appear", () => {
    expect(sqlStatement('postgres', (p) => `SELECT a FROM t WHERE k = ${p()} AND at <= ${p()}`)).toBe(
      'SELECT a FROM t WHERE k = $1 AND at <= $2',
    )
    expect(sqlStatement('postgres', (p) => `VALUES (${[1, 2, 3].map(() => p()).join(', ')})`)).toBe(
      'VALUES ($1, $2, $3)',
    )
  })

  it('writes ? on MySQL and SQLite, and leaves the rest of the text alone', () => {
    for (const dialect of ['mysql', 'sqlite'] as const) {
      expect(sqlStatement(dialect, (p) => `SELECT '$1', a FROM t WHERE k = ${p()} AND at <= ${p()}`)).toBe(
        "SELECT '$1', a FROM t WHERE k = ? AND at <= ?",
      )
    }
  })

  it('starts each statement at $1', () => {
    const build = (p: () => string) => `k = ${p()}`
    expect(sqlStatement('postgres', build)).toBe('k = $1')
    expect(sqlStatement('postgres', build)).toBe('k = $1')
  })
})

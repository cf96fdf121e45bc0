import type { SqlDateTimeDialect } from './sql-datetime.ts'

/**
 * Writes one SQL statement in `dialect`'s own placeholder syntax, for every package that sends SQL
 * (`@sessionbridge/sql`, `@sessionbridge/django`): `build` gets `p`, and each `p()` in the text is
 * the next bound parameter, `$1`, `$2`, ... on PostgreSQL and `?` on MySQL/MariaDB and SQLite.
 * Parameters are numbered in the order they appear, which is the order `?` binds them, so one
 * params array fits every dialect; nothing parses or rewrites the SQL afterwards.
 *
 * @example sqlStatement('postgres', (p) => `DELETE FROM t WHERE k = ${p()} AND at <= ${p()}`)
 * // 'DELETE FROM t WHERE k = $1 AND at <= $2' (MySQL/SQLite: '... k = ? AND at <= ?')
 */
export function sqlStatement(dialect: SqlDateTimeDialect, build: (p: () => string) => string): string {
  let n = 0
  return build(dialect === 'postgres' ? () => `$${++n}` : () => '?')
}

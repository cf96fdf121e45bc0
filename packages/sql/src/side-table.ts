import { SessionConfigError } from '@sessionbridge/core'
import { backendCall, missingOption, sqlStatement, wallClock } from '@sessionbridge/core/adapter'
import type { SqlClient, SqlDialect } from './client.ts'
import { checkDialect, PKG, quoteTable } from './dialect.ts'

/** What every side table's store (tickets, login attempts) takes besides its table name. */
export interface SideTableOptions {
  /** The database, through an adapter (`pgClient`, `mysqlClient`, `sqliteClient`, ...). */
  client: SqlClient
  /** Ended rows deleted (one bounded statement) every this many writes. @default 100 */
  sweepEvery?: number
  /** Clock, epoch ms. @default wallClock */
  now?: () => number
}

/** A side table's resolved options, its I/O wrapper and its bounded sweep of ended rows. */
export interface SideTable {
  client: SqlClient
  dialect: SqlDialect
  /** The name as given (for DDL and `tableColumns`). */
  tableName: string
  /** The name quoted for the dialect. */
  table: string
  sweepEvery: number
  now: () => number
  /** Runs `fn`; a driver error becomes a `SessionBackendError` of `operation`, with `{ cause }`. */
  io<T>(operation: string, fn: () => Promise<T>): Promise<T>
  /** One statement deleting at most 1,000 rows whose `column` (epoch ms) is not after `at`. */
  sweep: string
  /** Deletes every ended row, 1,000 at a time; returns how many. */
  clearExpired(operation: string): Promise<number>
}

/**
 * Resolves a side table's options once (failing at startup, naming the option) and builds what
 * its store shares with the others: the sweep by `endColumn`, keyed by `keyColumn`.
 */
export function sideTable(
  options: (SideTableOptions & { table?: string }) | undefined,
  defaultTable: string,
  keyColumn: string,
  endColumn: string,
): SideTable {
  if (!options || typeof options !== 'object' || !options.client) throw missingOption(PKG, 'client')
  const { client } = options
  const dialect = checkDialect(client.dialect)
  const tableName = options.table ?? defaultTable
  const table = quoteTable(dialect, tableName)
  const sweepEvery = options.sweepEvery ?? 100
  if (!Number.isInteger(sweepEvery) || sweepEvery < 1) {
    throw new SessionConfigError(PKG, 'sweepEvery', '%s must be a positive whole number')
  }
  const now = options.now ?? wallClock
  const sweep = sqlStatement(dialect, (p) =>
    dialect === 'mysql'
      ? `DELETE FROM ${table} WHERE ${endColumn} <= ${p()} LIMIT 1000`
      : `DELETE FROM ${table} WHERE ${keyColumn} IN (SELECT ${keyColumn} FROM ${table} WHERE ${endColumn} <= ${p()} LIMIT 1000)`,
  )
  const io = <T>(operation: string, fn: () => Promise<T>): Promise<T> => backendCall(PKG, operation, fn)
  const clearExpired = (operation: string) =>
    io(operation, async () => {
      let total = 0
      for (;;) {
        const { rowCount } = await client.query(sweep, [now()])
        total += rowCount
        if (rowCount < 1000) return total
      }
    })
  return { client, dialect, tableName, table, sweepEvery, now, io, sweep, clearExpired }
}

import { mysqlClient, pgClient, type SqlClient, sqliteClient } from '@sessionbridge/sql'
import { importDriver } from './errors.ts'

/** A database opened from a URL, and how to close it. */
export interface OpenedSql {
  client: SqlClient
  close(): Promise<void>
}

/** `sqlite:path` (also `sqlite://path`), `postgres://...` or `mysql://...`, through pg, mysql2 or better-sqlite3. */
export async function openSqlClient(url: string): Promise<OpenedSql> {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length)
    const path = rest.startsWith('//') ? rest.slice(2) : rest
    const { default: Database } = await importDriver<{ default: typeof import('better-sqlite3') }>(
      'better-sqlite3',
    )
    // fileMustExist: a typo in the path is an error, not a new empty database.
    const db = new Database(path, { fileMustExist: true, timeout: 2000 })
    return { client: sqliteClient(db), close: async () => void db.close() }
  }
  if (url.startsWith('mysql://')) {
    const mysql = await importDriver<typeof import('mysql2/promise')>('mysql2/promise')
    const pool = mysql.createPool({ uri: url, connectTimeout: 5000, connectionLimit: 2 })
    return { client: mysqlClient(pool), close: () => pool.end() }
  }
  const { default: pg } = await importDriver<typeof import('pg')>('pg')
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000 })
  pool.on('error', () => {})
  return { client: pgClient(pool), close: () => pool.end() }
}

import type { SqlClient, SqlResult } from '../client.ts'

/** A prepared better-sqlite3 statement. */
export interface SqliteStatementLike {
  /** True when the statement returns rows (SELECT, or anything with RETURNING). */
  readonly reader: boolean
  all(...params: never[]): unknown[]
  run(...params: never[]): { changes: number }
}

/** The part of a better-sqlite3 `Database` the adapter uses; `new Database(file)` fits. */
export interface SqliteDatabaseLike {
  prepare(source: string): SqliteStatementLike
}

/**
 * An `SqlClient` over better-sqlite3. Statements run synchronously and are cached prepared;
 * `transaction` is `BEGIN IMMEDIATE` ... `COMMIT` (the write lock is taken up front, so
 * read-modify-write is atomic across processes too), and everything else sharing this client waits
 * until it ends: one transaction at a time, never interleaved.
 */
export function sqliteClient(db: SqliteDatabaseLike): SqlClient {
  const statements = new Map<string, SqliteStatementLike>()
  const prepared = (sql: string): SqliteStatementLike => {
    let stmt = statements.get(sql)
    if (!stmt) {
      stmt = db.prepare(sql)
      if (statements.size >= 200) statements.delete(statements.keys().next().value!)
      statements.set(sql, stmt)
    }
    return stmt
  }
  const run = <Row>(sql: string, params: readonly unknown[] = []): SqlResult<Row> => {
    // SQLite binds no booleans: store them as 1/0 like every SQLite ORM does.
    const values = params.map((v) => (typeof v === 'boolean' ? Number(v) : v)) as never[]
    const stmt = prepared(sql)
    if (stmt.reader) {
      const rows = stmt.all(...values) as Row[]
      return { rows, rowCount: rows.length }
    }
    return { rows: [], rowCount: stmt.run(...values).changes }
  }

  let gate: Promise<void> | null = null
  const tx: SqlClient = {
    dialect: 'sqlite',
    query: async (sql, params) => run(sql, params),
    transaction: (fn) => fn(tx),
  }
  return {
    dialect: 'sqlite',
    async query(sql, params) {
      while (gate) await gate
      return run(sql, params)
    },
    async transaction(fn) {
      while (gate) await gate
      let open!: () => void
      gate = new Promise<void>((resolve) => {
        open = resolve
      })
      try {
        run('BEGIN IMMEDIATE')
        try {
          const result = await fn(tx)
          run('COMMIT')
          return result
        } catch (error) {
          try {
            run('ROLLBACK')
          } catch {
            // SQLite already rolled back (some errors end the transaction themselves).
          }
          throw error
        }
      } finally {
        gate = null
        open()
      }
    },
  }
}

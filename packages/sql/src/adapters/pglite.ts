import type { SqlClient, SqlResult } from '../client.ts'

/** What `pgliteClient` needs of a PGlite instance or transaction. */
export interface PgliteQueryable {
  query(query: string, params?: never[]): Promise<{ rows: unknown[]; affectedRows?: number }>
}

/** The part of `PGlite` the adapter uses; `new PGlite()` fits. */
export interface PgliteLike extends PgliteQueryable {
  transaction(fn: (tx: PgliteQueryable) => Promise<unknown>): Promise<unknown>
}

async function run<Row>(
  db: PgliteQueryable,
  sql: string,
  params: readonly unknown[] = [],
): Promise<SqlResult<Row>> {
  const result = await db.query(sql, params as never[])
  // SELECT reports its rows, INSERT/UPDATE/DELETE their affected rows.
  return { rows: result.rows as Row[], rowCount: Math.max(result.rows.length, result.affectedRows ?? 0) }
}

function joined(db: PgliteQueryable): SqlClient {
  const tx: SqlClient = {
    dialect: 'postgres',
    query: (sql, params) => run(db, sql, params),
    transaction: (fn) => fn(tx),
  }
  return tx
}

/**
 * An `SqlClient` over PGlite (`@electric-sql/pglite`), PostgreSQL compiled to WebAssembly: one
 * connection, so PGlite itself queues statements while a transaction runs.
 */
export function pgliteClient(db: PgliteLike): SqlClient {
  return {
    dialect: 'postgres',
    query: (sql, params) => run(db, sql, params),
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return (await db.transaction((tx: PgliteQueryable) => fn(joined(tx)))) as T
    },
  }
}

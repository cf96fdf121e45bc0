import type { SqlClient, SqlResult } from '../client.ts'

/** What `postgresJsClient` needs of a postgres.js `sql` (or transaction) object. */
export interface PostgresJsQueryable {
  unsafe(query: string, parameters?: never[]): PromiseLike<ArrayLike<unknown> & { count?: number | null }>
}

/** The part of a postgres.js `sql` instance the adapter uses; `postgres(url)` fits. */
export interface PostgresJsLike extends PostgresJsQueryable {
  begin(fn: (tx: PostgresJsQueryable) => unknown): PromiseLike<unknown>
}

async function run<Row>(
  sql: PostgresJsQueryable,
  text: string,
  params: readonly unknown[] = [],
): Promise<SqlResult<Row>> {
  const result = await sql.unsafe(text, params as never[])
  const rows = Array.from(result) as Row[]
  return { rows, rowCount: typeof result.count === 'number' ? result.count : rows.length }
}

function joined(sql: PostgresJsQueryable): SqlClient {
  const tx: SqlClient = {
    dialect: 'postgres',
    query: (text, params) => run(sql, text, params),
    transaction: (fn) => fn(tx),
  }
  return tx
}

/**
 * An `SqlClient` over postgres.js (`postgres`). Statements go through `sql.unsafe(text, params)`
 * with every value bound; `transaction` uses `sql.begin()`, which reserves one connection.
 */
export function postgresJsClient(sql: PostgresJsLike): SqlClient {
  return {
    dialect: 'postgres',
    query: (text, params) => run(sql, text, params),
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      let result: T | undefined
      await sql.begin(async (tx: PostgresJsQueryable) => {
        result = await fn(joined(tx))
      })
      return result as T
    },
  }
}

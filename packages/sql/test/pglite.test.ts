import { PGlite } from '@electric-sql/pglite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgliteClient, type SqlClient } from '../src/index.ts'
import { sqlSuite } from './suite.ts'

// No server needed: PGlite is PostgreSQL in WebAssembly, so contributors without servers still run the SQL.
let db: PGlite
let client: SqlClient

beforeAll(async () => {
  db = new PGlite()
  await db.waitReady
  client = pgliteClient(db)
})
afterAll(async () => {
  await db?.close()
})

describe('PGlite (in-memory)', () => {
  sqlSuite({ name: 'PGlite', prefix: 'pglite', client: () => client })

  it('passes statements through unchanged: $n binds, and ? is the jsonb operator', async () => {
    const { rows } = await client.query<{ a: string; has: boolean }>(
      `SELECT $1::text AS a, $2::text::jsonb ? 'k' AS has`,
      ['one', '{"k": 1}'],
    )
    expect(rows[0]).toEqual({ a: 'one', has: true })
  })
})

import { PGlite } from '@electric-sql/pglite'
import { afterAll, beforeAll, describe } from 'vitest'
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
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SqlClient, sqlBackend, sqliteClient } from '../src/index.ts'
import { base64JsonCodec, record, sqlSuite } from './suite.ts'

const dir = mkdtempSync(join(tmpdir(), 'sb-sql-'))
let db: Database.Database
let client: SqlClient

beforeAll(() => {
  db = new Database(join(dir, 'sessions.db'))
  db.pragma('journal_mode = WAL')
  client = sqliteClient(db)
})
afterAll(() => {
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('SQLite (better-sqlite3, temp file)', () => {
  sqlSuite({ name: 'SQLite (better-sqlite3)', prefix: 'lite', client: () => client })

  it('writes expire_date the way Django does on SQLite: naive UTC text with a space', async () => {
    const backend = sqlBackend({ client, layout: 'django', table: 'sbt_lite_django', codec: base64JsonCodec })
    const at = Date.UTC(2031, 4, 6, 7, 8, 9, 0)
    const withFraction = at + 250
    const a = (await backend.create(backend.idFormat.generate(), { ...record({}), expiresAt: at }))!
    const b = (await backend.create(backend.idFormat.generate(), { ...record({}), expiresAt: withFraction }))!
    const { rows } = await client.query<{ session_key: string; expire_date: string }>(
      'SELECT session_key, expire_date FROM sbt_lite_django WHERE session_key IN (?, ?)',
      [a, b],
    )
    const stored = Object.fromEntries(rows.map((r) => [r.session_key, r.expire_date]))
    expect(stored[a]).toBe('2031-05-06 07:08:09') // str(datetime) drops a zero fraction
    expect(stored[b]).toBe('2031-05-06 07:08:09.250000')
    expect((await backend.load(b))?.expiresAt).toBe(withFraction)
  })

  it('serializes transactions: statements from other requests wait for COMMIT', async () => {
    const order: string[] = []
    const tx = client.transaction(async (t) => {
      order.push('tx start')
      await t.query('SELECT 1 AS x')
      await new Promise((r) => setTimeout(r, 20))
      order.push('tx end')
    })
    const outside = client.query('SELECT 1 AS x').then(() => order.push('outside'))
    await Promise.all([tx, outside])
    expect(order).toEqual(['tx start', 'tx end', 'outside'])
  })
})

import {
  bridgedD1,
  D1_BRIDGE_WORKER,
  type Miniflare,
  startWorker,
} from '@sessionbridge/test-services/workerd'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type D1DatabaseLike, d1Client, type SqlClient, sqlBackend } from '../src/index.ts'
import { base64JsonCodec, record, sqlSuite } from './suite.ts'

// Cloudflare D1 as miniflare serves it: workerd's local D1 (SQLite in a Durable Object). Each
// statement is a real D1 call made inside workerd on the Worker's binding; the test's calls reach
// that Worker over a WebSocket (see bridgedD1).
let mf: Miniflare
let db: D1DatabaseLike
let client: SqlClient

beforeAll(async () => {
  mf = await startWorker(D1_BRIDGE_WORKER, { d1Databases: ['DB'] })
  db = await bridgedD1(mf)
  client = d1Client(db)
})
afterAll(() => mf?.dispose())

describe('Cloudflare D1 (miniflare)', () => {
  sqlSuite({ name: 'D1 (miniflare)', prefix: 'd1', client: () => client, singleWriteTransactions: true })

  it('merges writers racing from separate isolates: a changed read reruns the transaction', async () => {
    // Two clients stand for two isolates: their transactions do not wait for each other.
    const a = sqlBackend({
      client: d1Client(db),
      layout: 'django',
      table: 'sbt_d1_django',
      codec: base64JsonCodec,
    })
    const b = sqlBackend({
      client: d1Client(db),
      layout: 'django',
      table: 'sbt_d1_django',
      codec: base64JsonCodec,
    })
    const id = (await a.create(a.idFormat.generate(), record({})))!
    const writes = Array.from({ length: 12 }, (_, i) =>
      (i % 2 ? a : b).save(id, { set: { [`k${i}`]: i }, deleted: [] }, record({ [`k${i}`]: i })),
    )
    expect(await Promise.all(writes)).toEqual(Array(12).fill(true))
    const data = (await a.load(id))?.data
    expect(Object.keys(data ?? {}).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `k${i}`).sort())
  })

  it('gives up after maxAttempts when every run finds its reads changed', async () => {
    const tx = d1Client(db, { maxAttempts: 2 })
    await client.query('CREATE TABLE IF NOT EXISTS sbt_d1_counter (n integer)')
    await client.query('DELETE FROM sbt_d1_counter')
    await client.query('INSERT INTO sbt_d1_counter VALUES (0)')
    let runs = 0
    const attempt = tx.transaction(async (t) => {
      runs++
      const { rows } = await t.query<{ n: number }>('SELECT n FROM sbt_d1_counter')
      await client.query('UPDATE sbt_d1_counter SET n = n + 100') // another isolate gets in between
      return t.query('UPDATE sbt_d1_counter SET n = ?', [rows[0]!.n + 1])
    })
    await expect(attempt).rejects.toThrow(/changed on each of 2 attempts/)
    expect(runs).toBe(2)
    const { rows } = await client.query<{ n: number }>('SELECT n FROM sbt_d1_counter')
    expect(rows[0]!.n).toBe(200) // neither stale write landed
  })

  it('reruns a transaction that swallowed its conflict instead of trusting its result', async () => {
    await client.query('DELETE FROM sbt_d1_counter')
    await client.query('INSERT INTO sbt_d1_counter VALUES (0)')
    let runs = 0
    const result = await d1Client(db).transaction(async (t) => {
      runs++
      const { rows } = await t.query<{ n: number }>('SELECT n FROM sbt_d1_counter')
      if (runs === 1) await client.query('UPDATE sbt_d1_counter SET n = 10')
      try {
        await t.query('UPDATE sbt_d1_counter SET n = ?', [rows[0]!.n + 1])
        return `wrote ${rows[0]!.n + 1}`
      } catch {
        return 'swallowed'
      }
    })
    expect({ runs, result }).toEqual({ runs: 2, result: 'wrote 11' })
    expect((await client.query<{ n: number }>('SELECT n FROM sbt_d1_counter')).rows[0]!.n).toBe(11)
  })

  it('refuses a second write in one transaction (D1 has no interactive transactions)', async () => {
    await expect(
      client.transaction(async (t) => {
        await t.query('DELETE FROM sbt_d1_counter WHERE n < 0')
        await t.query('DELETE FROM sbt_d1_counter WHERE n < 0')
      }),
    ).rejects.toThrow(/may write once/)
  })

  it('fails at startup for something that is not a D1 binding, naming the option', () => {
    expect(() => d1Client({} as D1DatabaseLike)).toThrow(/option "db"/)
    expect(() => d1Client(db, { maxAttempts: 0 })).toThrow(/option "maxAttempts"/)
  })
})

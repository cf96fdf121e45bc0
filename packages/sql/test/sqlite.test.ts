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

describe('SQLite lock waits (issue 14.9)', () => {
  /** Largest gap between 5 ms ticks while `during` runs: how long the event loop was held. */
  async function longestStall<T>(
    during: () => Promise<T>,
  ): Promise<{ result: PromiseSettledResult<T>; stall: number }> {
    let last = performance.now()
    let stall = 0
    const timer = setInterval(() => {
      const now = performance.now()
      stall = Math.max(stall, now - last)
      last = now
    }, 5)
    const [result] = await Promise.allSettled([during()])
    clearInterval(timer)
    // A synchronous wait ends before any tick fires: count the time since the last tick too.
    return { result, stall: Math.max(stall, performance.now() - last) }
  }

  const file = () => join(dir, `lock-${process.pid}-${Math.random().toString(36).slice(2)}.db`)
  function pair(path: string, lockWaitMs: number) {
    const holder = new Database(path)
    holder.pragma('journal_mode = WAL')
    holder.exec('CREATE TABLE IF NOT EXISTS t (n INTEGER)')
    const waiter = new Database(path)
    waiter.pragma('busy_timeout = 5000') // what the example used to set: the adapter overrides it
    return { holder, waiter, client: sqliteClient(waiter, { lockWaitMs }) }
  }

  it('waits for another connection’s write lock without blocking the event loop, then succeeds', async () => {
    const { holder, waiter, client: lockClient } = pair(file(), 5000)
    try {
      holder.exec('BEGIN IMMEDIATE')
      setTimeout(() => holder.exec('COMMIT'), 600)
      const started = performance.now()
      const { result, stall } = await longestStall(() => lockClient.query('INSERT INTO t (n) VALUES (1)'))
      const waited = performance.now() - started
      expect(result.status, String((result as PromiseRejectedResult).reason)).toBe('fulfilled')
      expect(waited).toBeGreaterThanOrEqual(550) // it did wait for the lock ...
      expect(stall).toBeLessThan(300) // ... on timers: the loop kept turning (loose: a shared machine)
      expect((holder.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c).toBe(1)
    } finally {
      holder.close()
      waiter.close()
    }
  })

  it('a transaction waits the same way for BEGIN IMMEDIATE', async () => {
    const { holder, waiter, client: lockClient } = pair(file(), 5000)
    try {
      holder.exec('BEGIN IMMEDIATE')
      setTimeout(() => holder.exec('COMMIT'), 400)
      const { result, stall } = await longestStall(() =>
        lockClient.transaction((t) => t.query('INSERT INTO t (n) VALUES (2)')),
      )
      expect(result.status).toBe('fulfilled')
      expect(stall).toBeLessThan(300)
    } finally {
      holder.close()
      waiter.close()
    }
  })

  it('gives up with SQLITE_BUSY after lockWaitMs, still without blocking', async () => {
    const { holder, waiter, client: lockClient } = pair(file(), 400)
    try {
      holder.exec('BEGIN IMMEDIATE')
      const started = performance.now()
      const { result, stall } = await longestStall(() => lockClient.query('INSERT INTO t (n) VALUES (3)'))
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_BUSY' })
      expect(performance.now() - started).toBeGreaterThanOrEqual(380)
      expect(stall).toBeLessThan(300)
      holder.exec('ROLLBACK')
    } finally {
      holder.close()
      waiter.close()
    }
  })

  it('refuses a lockWaitMs that is not a whole number', () => {
    expect(() => sqliteClient(new Database(':memory:'), { lockWaitMs: -1 })).toThrow(/lockWaitMs/)
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessionManager } from '@sessionbridge/core'
import { settlesInItsTurn, timersOfAnIncrement } from '@sessionbridge/core/testing'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { djangoTableDdl, migrate, type SqlClient, sqlBackend, sqliteClient } from '../src/index.ts'
import { base64JsonCodec, record, sleep, sqlSuite } from './suite.ts'

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

/** A transaction of `on`'s own, begun and held open until `release()`; `tx` ends with it. */
async function heldTransaction(on: SqlClient) {
  let release!: () => void
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const tx = on.transaction(async () => held)
  await sleep(5) // the transaction has begun
  return { release, tx }
}

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

  it('queryRow over a driver without get() and raw(): the first row of all(), as values', async () => {
    const statements = new Map<string, Database.Statement>()
    const plain = {
      prepare(source: string) {
        const stmt = db.prepare(source)
        statements.set(source, stmt)
        return {
          reader: stmt.reader,
          all: (...params: never[]) => stmt.all(...params),
          run: (...params: never[]) => stmt.run(...params),
        }
      },
    }
    const limited = sqliteClient(plain)
    await limited.query('CREATE TABLE IF NOT EXISTS sbt_lite_plain (k text PRIMARY KEY, a integer)')
    await limited.query('INSERT OR REPLACE INTO sbt_lite_plain VALUES (?, ?)', ['p', 5])
    expect(await limited.queryRow!('SELECT a, k FROM sbt_lite_plain WHERE k = ?', ['p'])).toEqual([5, 'p'])
    expect(await limited.queryRow!('SELECT a, k FROM sbt_lite_plain WHERE k = ?', ['none'])).toBeUndefined()
    expect(statements.size).toBeGreaterThan(0)
  })

  it('queryRow of one column asks better-sqlite3 for its value (pluck), of more for arrays (raw), once per statement', async () => {
    const modes: string[] = []
    const watched = {
      prepare(source: string) {
        const stmt = db.prepare(source)
        return {
          reader: stmt.reader,
          all: (...params: never[]) => stmt.all(...params),
          run: (...params: never[]) => stmt.run(...params),
          get: (...params: never[]) => stmt.get(...params),
          columns: () => stmt.columns(),
          raw: (on?: boolean) => modes.push(`raw ${source}`) && stmt.raw(on),
          pluck: (on?: boolean) => modes.push(`pluck ${source}`) && stmt.pluck(on),
        }
      },
    }
    const c = sqliteClient(watched)
    await c.query('CREATE TABLE IF NOT EXISTS sbt_lite_modes (k text PRIMARY KEY, a integer)')
    await c.query('INSERT OR REPLACE INTO sbt_lite_modes VALUES (?, ?)', ['m', 7])
    const one = 'SELECT a FROM sbt_lite_modes WHERE k = ?'
    const two = 'SELECT a, k FROM sbt_lite_modes WHERE k = ?'
    for (let i = 0; i < 3; i++) {
      expect(await c.queryRow!(one, ['m'])).toEqual([7])
      expect(await c.queryRow!(two, ['m'])).toEqual([7, 'm'])
    }
    expect(modes).toEqual([`pluck ${one}`, `raw ${two}`])
  })

  it('queryRow: the first row as values in the order selected, undefined for none; query keeps objects', async () => {
    await client.query('CREATE TABLE IF NOT EXISTS sbt_lite_rows (k text PRIMARY KEY, a integer, b text)')
    await client.query('INSERT OR REPLACE INTO sbt_lite_rows VALUES (?, ?, ?), (?, ?, ?)', [
      'x',
      1,
      null,
      'y',
      2,
      'two',
    ])
    const select = 'SELECT b, a, k FROM sbt_lite_rows WHERE k = ?'
    expect(await client.queryRow!(select, ['y'])).toEqual(['two', 2, 'y'])
    expect(await client.queryRow!(select, ['x'])).toEqual([null, 1, 'x'])
    expect(await client.queryRow!(select, ['none'])).toBeUndefined()
    // The same text through query: row objects still (the statements are prepared apart).
    expect((await client.query(select, ['y'])).rows).toEqual([{ b: 'two', a: 2, k: 'y' }])
    expect(await client.queryRow!('SELECT k FROM sbt_lite_rows ORDER BY k', [])).toEqual(['x'])
    // One column: its value (NULL too) in an array; query's statement of the same text keeps objects.
    const oneColumn = 'SELECT b FROM sbt_lite_rows WHERE k = ?'
    expect(await client.queryRow!(oneColumn, ['x'])).toEqual([null])
    expect(await client.queryRow!(oneColumn, ['none'])).toBeUndefined()
    expect((await client.query(oneColumn, ['y'])).rows).toEqual([{ b: 'two' }])
    // A statement that returns no rows runs, and answers undefined (better-sqlite3 has no raw() for it).
    expect(await client.queryRow!('UPDATE sbt_lite_rows SET a = a WHERE k = ?', ['x'])).toBeUndefined()
    // A statement from another request waits for the open transaction, as query does.
    const order: string[] = []
    const tx = client.transaction(async (t) => {
      await t.query('UPDATE sbt_lite_rows SET a = 3 WHERE k = ?', ['x'])
      await new Promise((r) => setTimeout(r, 20))
      expect(await t.queryRow!(select, ['x'])).toEqual([null, 3, 'x'])
      order.push('tx end')
    })
    const outside = client.queryRow!(select, ['x']).then((row) => order.push(`outside ${row?.[1]}`))
    await Promise.all([tx, outside])
    expect(order).toEqual(['tx end', 'outside 3'])
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

  it('queryRow waits for an exclusive lock the same way (a rollback journal: readers wait too)', async () => {
    const path = file()
    const holder = new Database(path)
    holder.exec('CREATE TABLE IF NOT EXISTS t (n INTEGER)')
    holder.exec('INSERT INTO t (n) VALUES (7)')
    const reader = new Database(path)
    try {
      holder.exec('BEGIN EXCLUSIVE')
      setTimeout(() => holder.exec('COMMIT'), 300)
      const started = performance.now()
      const { result, stall } = await longestStall(() =>
        sqliteClient(reader).queryRow!('SELECT n FROM t', []),
      )
      expect(result).toEqual({ status: 'fulfilled', value: [7] })
      expect(performance.now() - started).toBeGreaterThanOrEqual(250)
      expect(stall).toBeLessThan(200)
    } finally {
      holder.close()
      reader.close()
    }
  })

  it("fails a statement waiting on this client's own transaction after lockWaitMs, as a lock held elsewhere", async () => {
    const own = sqliteClient(new Database(file()), { lockWaitMs: 150 })
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    // An `update` whose function does not settle holds the transaction open.
    const tx = own.transaction(async (t) => {
      await t.query('SELECT 1 AS x')
      await held
    })
    const started = performance.now()
    const waiting = [
      own.query('SELECT 1 AS x'),
      own.queryRow!('SELECT 1 AS x'),
      own.transaction((t) => t.query('SELECT 1 AS x')),
    ]
    for (const statement of waiting) await expect(statement).rejects.toMatchObject({ code: 'SQLITE_BUSY' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    release()
    await tx
    expect(await own.queryRow!('SELECT 1 AS x')).toEqual([1])
  })

  it('waits for its own transaction as long as it lasts with lockWaitMs 0 (its waits then unbounded)', async () => {
    const own = sqliteClient(new Database(file()), { lockWaitMs: 0 })
    expect(own.waitsBounded).toBe(false)
    expect(sqliteClient(new Database(file())).waitsBounded).toBe(true)
    const tx = own.transaction(async (t) => {
      await t.query('SELECT 1 AS x')
      await new Promise((resolve) => setTimeout(resolve, 60))
    })
    const after = own.queryRow!('SELECT 2 AS x')
    await tx
    expect(await after).toEqual([2])
  })

  it('answers a statement at once (queryAtOnce, queryRowAtOnce), null where it must wait', async () => {
    const { holder, waiter, client: own } = pair(file(), 5000)
    try {
      expect(own.queryAtOnce!('INSERT INTO t (n) VALUES (?)', [4])).toEqual({ rows: [], rowCount: 1 })
      expect(own.queryAtOnce!<{ n: number }>('SELECT n FROM t')).toEqual({ rows: [{ n: 4 }], rowCount: 1 })
      expect(own.queryRowAtOnce!('SELECT n FROM t WHERE n = ?', [4])).toEqual([4])
      expect(own.queryRowAtOnce!('SELECT n, n + 1 AS m FROM t')).toEqual([4, 5])
      expect(own.queryRowAtOnce!('SELECT n FROM t WHERE n = ?', [5])).toBeUndefined()
      expect(() => own.queryAtOnce!('SELECT n FROM nowhere')).toThrow(/no such table/)
      // Another connection holds the write lock: no attempt waits, nothing is written.
      holder.exec('BEGIN IMMEDIATE')
      expect(own.queryAtOnce!('INSERT INTO t (n) VALUES (?)', [5])).toBeNull()
      holder.exec('COMMIT')
      // A transaction of its own is open: null, and `queryRow` waits for it.
      const { release, tx } = await heldTransaction(own)
      expect(own.queryRowAtOnce!('SELECT n FROM t')).toBeNull()
      expect(own.queryAtOnce!('SELECT n FROM t')).toBeNull()
      release()
      await tx
      expect(own.queryRowAtOnce!('SELECT count(*) FROM t')).toEqual([1])
    } finally {
      holder.close()
      waiter.close()
    }
  })

  it("a session's load and save that must wait go on once the transaction ends", async () => {
    await migrate(client, { layout: 'native', table: 'sbt_lite_at_once' })
    const backend = sqlBackend({ client, layout: 'native', table: 'sbt_lite_at_once' })
    const id = backend.idFormat.generate()
    await backend.create(id, record({ n: 1 }))
    const loaded = (await backend.load(id))!
    const { release, tx } = await heldTransaction(client)
    let settled = false
    const saving = backend
      .save(id, { set: { n: 2 }, deleted: [], expiryKept: true }, { ...loaded, data: { n: 2 } })
      .finally(() => {
        settled = true
      })
    const loading = backend.load(id)
    await sleep(30)
    expect(settled).toBe(false) // waiting for the transaction, not written beside it
    release()
    await tx
    expect(await saving).toBe(true)
    expect((await loading)?.data).toEqual({ n: 2 })
  })

  it('refuses a lockWaitMs that is not a whole number', () => {
    expect(() => sqliteClient(new Database(':memory:'), { lockWaitMs: -1 })).toThrow(/lockWaitMs/)
  })
})

describe("SQLite: a session's read answered in its own turn", () => {
  it('takes the row without a promise to await, and waits for an open transaction', async () => {
    await migrate(client, { layout: 'native', table: 'sbt_lite_read_now' })
    const manager = createSessionManager({
      backend: sqlBackend({ client, layout: 'native', table: 'sbt_lite_read_now' }),
    })
    const cookies: string[] = []
    for (const user of [null, 'ü 7']) {
      const first = await manager.open({ cookie: null })
      first.set('n', 1)
      if (user !== null) first.set('_auth_user_id', user)
      cookies.push((await first.commit()).setCookie!.split(';')[0]!)
    }
    for (const [i, cookie] of cookies.entries()) {
      const session = await manager.open({ cookie })
      const read = session.get('_auth_user_id')
      expect(await settlesInItsTurn(read)).toBe(true)
      expect(await read).toBe(i === 0 ? undefined : 'ü 7')
    }

    const { release, tx } = await heldTransaction(client)
    let settled = false
    const waiting = (await manager.open({ cookie: cookies[0]! })).get('n').finally(() => {
      settled = true
    })
    await sleep(20)
    expect(settled).toBe(false)
    release()
    await tx
    expect(await waiting).toBe(1)
  })
})

// A client whose waits end by themselves (`waitsBounded`): the native layout's loads and saves run
// without a deadline of their own (no timer armed); lockWaitMs 0, a client wrapped without the
// flag and the Django layout keep it.
describe('SQLite: calls without a deadline', () => {
  const native = async (client: SqlClient, table: string) => {
    await migrate(client, { layout: 'native', table })
    return sqlBackend({ client, layout: 'native', table })
  }

  it("arms no deadline for a session's load and save", async () => {
    expect(await timersOfAnIncrement(await native(client, 'sbt_lite_prompt'), 4_322)).toBe(0)
  })

  it('arms it with lockWaitMs 0, and over a client that does not say its waits are bounded', async () => {
    const unbounded = sqliteClient(db, { lockWaitMs: 0 })
    expect(await timersOfAnIncrement(await native(unbounded, 'sbt_lite_prompt'), 4_322)).toBe(1)
    const wrapped: SqlClient = {
      dialect: 'sqlite',
      query: (sql, params) => client.query(sql, params),
      transaction: (fn) => client.transaction(fn),
    }
    expect(await timersOfAnIncrement(await native(wrapped, 'sbt_lite_prompt'), 4_322)).toBe(1)
  })

  it('arms it for the Django layout (its codec runs in the call)', async () => {
    await client.query('DROP TABLE IF EXISTS sbt_lite_prompt_django')
    for (const statement of djangoTableDdl('sqlite', 'sbt_lite_prompt_django')) await client.query(statement)
    const django = sqlBackend({
      client,
      layout: 'django',
      table: 'sbt_lite_prompt_django',
      codec: base64JsonCodec,
    })
    expect(await timersOfAnIncrement(django, 4_322)).toBe(1)
  })
})

import {
  createSessionManager,
  djangoIdFormat,
  type SessionBackend,
  SessionBackendError,
  type SessionCodec,
  SessionConfigError,
  type SessionData,
  SessionDataError,
  type SessionRecord,
} from '@sessionbridge/core'
import { isPlainObject, sqlStatement } from '@sessionbridge/core/adapter'
import { notApplicable, testBackend } from '@sessionbridge/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  checkDjangoTable,
  djangoTableDdl,
  migrate,
  type SqlBackendOptions,
  type SqlClient,
  type SqlLayout,
  sqlBackend,
  sqlTicketStore,
} from '../src/index.ts'
import { patchSuite } from './patch.ts'
import { userTableSuite } from './user-table.ts'

/** A stand-in for @sessionbridge/django's codec: base64 of JSON, Django's id format. */
export const base64JsonCodec: SessionCodec = Object.freeze({
  name: 'base64-json',
  idFormat: djangoIdFormat,
  async encode(data: SessionData) {
    return Buffer.from(JSON.stringify(data), 'utf8').toString('base64')
  },
  async decode(stored: string) {
    try {
      const value: unknown = JSON.parse(Buffer.from(stored, 'base64').toString('utf8'))
      return isPlainObject(value) ? value : null
    } catch {
      return null
    }
  },
})

/** Counts statements and transactions (each also counted once in `count`), so tests can prove that a call never reached SQL. */
export function countingClient(client: SqlClient): SqlClient & { count: number; transactions: number } {
  const counted = {
    dialect: client.dialect,
    count: 0,
    transactions: 0,
    query: <Row>(sql: string, params?: readonly unknown[]) => {
      counted.count++
      return client.query<Row>(sql, params)
    },
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => {
      counted.count++
      counted.transactions++
      return client.transaction(fn)
    },
  }
  return counted
}

export const HOUR = 3_600_000
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
export const record = (
  data: Record<string, unknown>,
  ttlMs = HOUR,
  userId: string | null = null,
): SessionRecord => ({
  data: userId ? { _auth_user_id: userId, ...data } : data,
  expiresAt: Date.now() + ttlMs,
  userId,
})

/** Drops and recreates this suite's tables: native (migrate), Django (Django's DDL), tickets. */
export async function resetTables(client: SqlClient, prefix: string): Promise<void> {
  for (const suffix of ['native', 'django', 'ticket', 'native_b', 'django_b']) {
    await client.query(`DROP TABLE IF EXISTS sbt_${prefix}_${suffix}`)
  }
  for (const t of ['native', 'native_b']) {
    await migrate(client, { layout: 'native', table: `sbt_${prefix}_${t}` })
    await migrate(client, { layout: 'native', table: `sbt_${prefix}_${t}` }) // idempotent
  }
  for (const t of ['django', 'django_b']) {
    for (const statement of djangoTableDdl(client.dialect, `sbt_${prefix}_${t}`))
      await client.query(statement)
  }
  await sqlTicketStore({ client, table: `sbt_${prefix}_ticket` }).migrate()
}

export interface SqlSuiteOptions {
  /** Shown in titles, e.g. `PostgreSQL (pg)`. */
  name: string
  /** Table prefix after `sbt_`, unique per suite. */
  prefix: string
  /** The client; valid from `beforeAll` on (set up by the test file). */
  client: () => SqlClient
  /** The client's transactions write once (D1): `userTable` is refused instead of tested. */
  singleWriteTransactions?: boolean
}

/**
 * Everything every dialect must pass, in both layouts: the core conformance suite, 50 writers
 * through the session manager, regressions (bad ids, undecodable rows, size limits, batches) and
 * the 1,000-consumer ticket race.
 */
export function sqlSuite(suite: SqlSuiteOptions): void {
  const table = (layout: SqlLayout, b = false) => `sbt_${suite.prefix}_${layout}${b ? '_b' : ''}`
  const q = (build: (p: () => string) => string) => sqlStatement(suite.client().dialect, build)
  const make = (layout: SqlLayout, extra: Partial<SqlBackendOptions> = {}) =>
    sqlBackend({
      client: suite.client(),
      layout,
      table: table(layout),
      ...(layout === 'django' ? { codec: base64JsonCodec } : {}),
      ...extra,
    })

  beforeAll(async () => {
    await resetTables(suite.client(), suite.prefix)
  })

  for (const layout of ['native', 'django'] as const) {
    const dataColumn = layout === 'native' ? 'data' : 'session_data'
    const idColumn = layout === 'native' ? 'id' : 'session_key'
    testBackend({
      name: `${suite.name}, ${layout} layout`,
      backend: () => make(layout),
      teardown: (b) => b.close?.() ?? Promise.resolve(),
      expiryResolutionMs: 250,
      concurrentWriters: 50,
      corrupt: async (_b, id) => {
        const value = layout === 'django' ? 'not base64 json!' : '[1, 2]' // valid JSON, but not an object
        const cast = layout === 'native' && suite.client().dialect === 'postgres' ? '::jsonb' : ''
        await suite.client().query(
          q((p) => `UPDATE ${table(layout)} SET ${dataColumn} = ${p()}${cast} WHERE ${idColumn} = ${p()}`),
          [value, id],
        )
      },
    })

    describe(`${suite.name}, ${layout} layout: sessionbridge/sql regressions`, () => {
      let backend: ReturnType<typeof make>
      beforeAll(() => {
        backend = make(layout)
      })
      afterAll(() => backend.close())

      it('keeps all 50 parallel writers of distinct keys through the session manager', async () => {
        const manager = createSessionManager({ backend, logger: { warn: () => {} } })
        const first = await manager.open({ cookie: null })
        first.set('base', true)
        const cookie = (await first.commit()).setCookie!.split(';')[0]!
        const results = await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const session = await manager.open({ cookie })
            session.set(`writer${i}`, i)
            return session.commit()
          }),
        )
        expect(results.every((r) => r.reason === 'save' && !r.lost)).toBe(true)
        const check = await manager.open({ cookie })
        const data = await check.all()
        expect(data.base).toBe(true)
        for (let i = 0; i < 50; i++) expect(data[`writer${i}`], `writer${i}`).toBe(i)
      })

      it('never sends a malformed id to the database', async () => {
        const counted = countingClient(suite.client())
        const b = make(layout, { client: counted })
        for (const id of ["x' OR '1'='1", '', 'A'.repeat(32), '../etc/passwd', 'a'.repeat(33)]) {
          expect(await b.load(id)).toBeNull()
          expect(await b.create(id, record({ a: 1 }))).toBeNull()
          expect(await b.save(id, { set: { a: 1 }, deleted: [] }, record({ a: 1 }))).toBe(false)
          expect(await b.touch(id, Date.now() + HOUR)).toBe(false)
          await b.destroy(id)
        }
        expect(counted.count).toBe(0)
      })

      it('answers null with exactly one warning for an undecodable row, and never overwrites it on save', async () => {
        const warnings: string[] = []
        const b = make(layout, { logger: { warn: (m) => warnings.push(m) } })
        const id = (await b.create(b.idFormat.generate(), record({ a: 1 })))!
        await suite.client().query(
          q((p) => `UPDATE ${table(layout)} SET ${dataColumn} = ${p()} WHERE ${idColumn} = ${p()}`),
          [layout === 'native' ? '"a string"' : '%%%', id],
        )
        expect(await b.load(id)).toBeNull()
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toMatch(/does not decode/)
        expect(warnings[0]).not.toContain(id) // ids are secrets: never logged
        expect(await b.save(id, { set: { a: 2 }, deleted: [] }, record({ a: 2 }))).toBe(false)
        const { rows } = await suite.client().query<Record<string, unknown>>(
          q((p) => `SELECT ${dataColumn} AS v FROM ${table(layout)} WHERE ${idColumn} = ${p()}`),
          [id],
        )
        expect(String(rows[0]?.v)).toMatch(layout === 'native' ? /a string/ : /^%%%$/)
      })

      it('refuses data over maxDataBytes with SessionDataError naming the limit', async () => {
        const b = make(layout, { maxDataBytes: 2000 })
        const create = b.create(b.idFormat.generate(), record({ big: 'é'.repeat(1500) }))
        await expect(create).rejects.toBeInstanceOf(SessionDataError)
        await expect(create).rejects.toThrow(/maxDataBytes \(2000\)/)
        const id = (await b.create(b.idFormat.generate(), record({ small: 1 })))!
        const big = 'x'.repeat(3000)
        await expect(
          b.save(id, { set: { big }, deleted: [] }, record({ small: 1, big })),
        ).rejects.toBeInstanceOf(SessionDataError)
        expect((await b.load(id))?.data).toEqual({ small: 1 })
      })

      it('refuses a small change that takes the loaded data over maxDataBytes', async () => {
        // 1,200 bytes loaded and 800 set: each alone fits, the merge (the request's view) does not.
        const b = make(layout, { maxDataBytes: 2000 })
        const id = (await b.create(b.idFormat.generate(), record({ big: 'é'.repeat(600) })))!
        const loaded = (await b.load(id))!
        const more = 'é'.repeat(400)
        const save = b.save(id, { set: { more }, deleted: [] }, { ...loaded, data: { ...loaded.data, more } })
        await expect(save).rejects.toThrow(/maxDataBytes \(2000\)/)
        expect((await b.load(id))?.data).toEqual(loaded.data)
        // A small change that keeps it under is written.
        const data = { ...loaded.data, less: 1 }
        expect(await b.save(id, { set: { less: 1 }, deleted: [] }, { ...loaded, data })).toBe(true)
        expect((await b.load(id))?.data).toEqual(data)
      })

      it('touch moves only the expiry; an expired row is neither saved nor touched back to life', async () => {
        const id = (await backend.create(backend.idFormat.generate(), record({ a: 1 }, -1000)))!
        expect(id).toBeTypeOf('string')
        expect(await backend.load(id)).toBeNull()
        expect(await backend.touch(id, Date.now() + HOUR)).toBe(false)
        expect(await backend.save(id, { set: { a: 2 }, deleted: [] }, record({ a: 2 }))).toBe(false)
        expect(await backend.load(id)).toBeNull()
        const live = (await backend.create(backend.idFormat.generate(), record({ a: 1 }, 60_000)))!
        const later = Date.now() + 2 * HOUR
        expect(await backend.touch(live, later)).toBe(true)
        expect(await backend.touch(live, later)).toBe(true) // same value again: still "exists"
        const loaded = await backend.load(live)
        expect(loaded?.data).toEqual({ a: 1 })
        expect(Math.abs(loaded!.expiresAt - later)).toBeLessThanOrEqual(1)
      })

      it('clears expired rows in bounded batches, and on an opt-in interval that close() stops', async () => {
        const b = make(layout, { table: table(layout, true), batchSize: 3 })
        for (let i = 0; i < 7; i++) await b.create(b.idFormat.generate(), record({ i }, -5000))
        const live = (await b.create(b.idFormat.generate(), record({ live: true })))!
        expect(await b.clearExpired()).toBe(7)
        expect(await b.clearExpired()).toBe(0)
        expect((await b.load(live))?.data.live).toBe(true)

        // The expired row exists before the sweeper starts, so only the sweeper can remove it.
        const gone = (await b.create(b.idFormat.generate(), record({ g: 1 }, -5000)))!
        const { rows: before } = await suite.client().query(
          q((p) => `SELECT 1 AS x FROM ${table(layout, true)} WHERE ${idColumn} = ${p()}`),
          [gone],
        )
        expect(before).toHaveLength(1)
        const swept = make(layout, { table: table(layout, true), clearExpiredInterval: 20 })
        for (let i = 0; i < 200; i++) {
          const { rows } = await suite.client().query(
            q((p) => `SELECT 1 AS x FROM ${table(layout, true)} WHERE ${idColumn} = ${p()}`),
            [gone],
          )
          if (rows.length === 0) break
          await sleep(20)
        }
        await swept.close()
        const { rows: after } = await suite.client().query(
          q((p) => `SELECT 1 AS x FROM ${table(layout, true)} WHERE ${idColumn} = ${p()}`),
          [gone],
        )
        expect(after).toHaveLength(0)
        await b.close()
      })

      it('saves what it loaded in one statement while the row is unchanged; else merges under the lock', async (ctx) => {
        if (layout !== 'django')
          return notApplicable(ctx, 'the native layout patches in one statement (patch.ts)')
        const counted = countingClient(suite.client())
        const b = make(layout, { client: counted })
        const id = (await b.create(b.idFormat.generate(), record({ a: 1 })))!
        const [first, second] = [(await b.load(id))!, (await b.load(id))!]
        expect(first.version).toBeTypeOf('string')
        counted.count = 0
        const saveWith = (loaded: SessionRecord, key: string) =>
          b.save(id, { set: { [key]: 2 }, deleted: [] }, { ...loaded, data: { ...loaded.data, [key]: 2 } })
        expect(await saveWith(first, 'b')).toBe(true)
        // One UPDATE, no transaction (the locked merge: BEGIN, locked read, write, COMMIT).
        expect([counted.count, counted.transactions]).toEqual([1, 0])
        // The second request loaded the same row, which has changed since: its write merges.
        expect(await saveWith(second, 'c')).toBe(true)
        expect([counted.count, counted.transactions]).toEqual([3, 1])
        expect((await b.load(id))?.data).toEqual({ a: 1, b: 2, c: 2 })
      })

      it("takes a row whose text changed only in letter case as changed (MySQL's collation ignores case)", async (ctx) => {
        if (layout !== 'django') return notApplicable(ctx, 'the native layout has no conditional save')
        const b = make(layout, { logger: { warn: () => {} } })
        const id = (await b.create(b.idFormat.generate(), record({ a: 'MiXeD' })))!
        const loaded = (await b.load(id))!
        const swapped = loaded.version!.replace(/[a-z]/gi, (c) =>
          c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase(),
        )
        await suite.client().query(
          q((p) => `UPDATE ${table(layout)} SET ${dataColumn} = ${p()} WHERE ${idColumn} = ${p()}`),
          [swapped, id],
        )
        // The stored text no longer decodes: the locked merge leaves it alone.
        expect(await b.save(id, { set: { a: 2 }, deleted: [] }, { ...loaded, data: { a: 2 } })).toBe(false)
        const { rows } = await suite.client().query<Record<string, unknown>>(
          q((p) => `SELECT ${dataColumn} AS v FROM ${table(layout)} WHERE ${idColumn} = ${p()}`),
          [id],
        )
        expect(String(rows[0]?.v)).toBe(swapped)
      })

      it('declares user capabilities honestly for this layout', () => {
        expect(backend.capabilities.destroyUser).toBe(layout === 'native')
        expect(backend.capabilities.listUser).toBe(layout === 'native')
        expect(typeof backend.destroyUser).toBe(layout === 'native' ? 'function' : 'undefined')
        expect(backend.capabilities.merge).toBe(true)
      })
    })
  }

  if (suite.singleWriteTransactions) {
    it(`${suite.name}: refuses userTable at startup (a save may change the user and the index in one transaction)`, () => {
      expect(suite.client().singleWriteTransactions).toBe(true)
      expect(() =>
        sqlBackend({
          client: suite.client(),
          layout: 'django',
          codec: base64JsonCodec,
          userTable: 'sbt_users',
        }),
      ).toThrow(/userTable.*write twice/)
    })
  } else userTableSuite(suite)

  patchSuite(suite)

  describe(`${suite.name}: schema helpers`, () => {
    it("checkDjangoTable accepts Django's table and names what is missing otherwise", async () => {
      await checkDjangoTable(suite.client(), table('django'))
      await expect(checkDjangoTable(suite.client(), `sbt_${suite.prefix}_nope`)).rejects.toThrow(
        /does not exist/,
      )
      await expect(checkDjangoTable(suite.client(), table('native'))).rejects.toThrow(
        /lacks Django's session columns session_key, session_data, expire_date/,
      )
      await expect(checkDjangoTable(suite.client(), 'x; DROP TABLE y')).rejects.toBeInstanceOf(
        SessionConfigError,
      )
    })

    it('migrate() refuses to create the Django layout', async () => {
      await expect(migrate(suite.client(), { layout: 'django' })).rejects.toBeInstanceOf(SessionConfigError)
    })
  })

  describe(`${suite.name}: tickets`, () => {
    const ticketTable = `sbt_${suite.prefix}_ticket`
    const store = () => sqlTicketStore({ client: suite.client(), table: ticketTable })

    it('lets exactly one of 1,000 concurrent consumers win a ticket', async () => {
      const s = store()
      const ticket = await s.issue({ userId: '7', username: 'ada', room: 'lobby' }, 10_000)
      const results = await Promise.all(Array.from({ length: 1000 }, () => s.consume(ticket)))
      const winners = results.filter((r) => r !== null)
      expect(winners).toEqual([{ userId: '7', username: 'ada', room: 'lobby' }])
    })

    it('refuses expired, forged, replayed and malformed tickets', async () => {
      const s = store()
      const expired = await s.issue({ userId: '1', username: 'a' }, 1)
      await sleep(10)
      expect(await s.consume(expired)).toBeNull()
      const ticket = await s.issue({ userId: '1', username: 'a' }, 10_000)
      expect(await s.consume(`${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}`)).toBeNull()
      expect((await s.consume(ticket))?.username).toBe('a')
      expect(await s.consume(ticket)).toBeNull()
      expect(await s.consume("' OR 1=1 --")).toBeNull()
      expect(await s.consume('x'.repeat(10_000))).toBeNull()
      // The table holds hashes, never the ticket itself.
      const again = await s.issue({ userId: '2', username: 'b' }, 10_000)
      const { rows } = await suite
        .client()
        .query<{ ticket_hash: string }>(`SELECT ticket_hash FROM ${ticketTable}`)
      expect(rows.some((r) => String(r.ticket_hash).includes(again))).toBe(false)
      // clearExpired removes what expired (at least the one just made) and keeps the live ticket.
      await s.issue({ userId: '3', username: 'c' }, 1)
      await sleep(10)
      expect(await s.clearExpired()).toBeGreaterThanOrEqual(1)
      expect(await s.clearExpired()).toBe(0)
      expect((await s.consume(again))?.username).toBe('b')
    })

    it("revokeUser deletes the user's unconsumed tickets and no one else's (issue 14.11)", async () => {
      const s = store()
      const mine = [
        await s.issue({ userId: '42', username: 'ada' }, 10_000),
        await s.issue({ userId: '42', username: 'ada', room: 'x' }, 10_000),
      ]
      const other = await s.issue({ userId: '421', username: 'bob' }, 10_000)
      const long = await s.issue({ userId: 'u'.repeat(1000), username: 'long' }, 10_000)
      await s.revokeUser('42')
      for (const ticket of mine) expect(await s.consume(ticket)).toBeNull()
      expect((await s.consume(other))?.username).toBe('bob')
      await s.revokeUser('u'.repeat(999)) // no prefix match
      expect((await s.consume(long))?.username).toBe('long')
      await s.revokeUser('nobody') // nothing to revoke is no error
    })

    it('migrate() upgrades a ticket table made without user_hash, and stays idempotent', async () => {
      const old = `sbt_${suite.prefix}_ticket_old`
      const c = suite.client()
      await c.query(`DROP TABLE IF EXISTS ${old}`)
      // The 0.1.0 table.
      await c.query(
        c.dialect === 'mysql'
          ? `CREATE TABLE ${old} (ticket_hash char(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, payload mediumtext NOT NULL, expires_at bigint NOT NULL) ENGINE=InnoDB`
          : `CREATE TABLE ${old} (ticket_hash char(64) NOT NULL PRIMARY KEY, payload text NOT NULL, expires_at bigint NOT NULL)`,
      )
      try {
        const s = sqlTicketStore({ client: c, table: old })
        await expect(s.issue({ userId: '1', username: 'a' }, 10_000)).rejects.toBeInstanceOf(
          SessionBackendError,
        )
        await s.migrate()
        await s.migrate()
        const ticket = await s.issue({ userId: '1', username: 'a' }, 10_000)
        await s.revokeUser('1')
        expect(await s.consume(ticket)).toBeNull()
      } finally {
        await c.query(`DROP TABLE IF EXISTS ${old}`)
      }
    })
  })
}

/** Asserts that `promise` fails with a `SessionBackendError` carrying the driver's error as `cause`. */
export async function expectBackendError(promise: Promise<unknown>): Promise<SessionBackendError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SessionBackendError)
  expect((error as SessionBackendError).cause).toBeDefined()
  return error as SessionBackendError
}

export type { SessionBackend }

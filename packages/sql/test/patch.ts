import type { SessionData } from '@sessionbridge/core'
import { sqlStatement } from '@sessionbridge/core/adapter'
import { notApplicable } from '@sessionbridge/core/testing'
import { beforeAll, describe, expect, it } from 'vitest'
import { migrate, sqlBackend } from '../src/index.ts'
import { pathSafeKey } from '../src/patch.ts'
import { HOUR, record, type SqlSuiteOptions, sleep } from './suite.ts'
import { statementCounter } from './user-table.ts'

/** Keys a JSON path must not mangle; `__proto__` as own data, as `JSON.parse` makes it. */
const AWKWARD = JSON.parse(
  JSON.stringify({
    'a.b': 1,
    'a"b': 'quote',
    'a\\b': 'backslash',
    'ü😀 ключ': { nested: { deep: [1, null] } },
    '': 'empty',
    $: '$',
    '[0]': 0,
    '*': 'star',
    "it's": null,
    'tab\there': 'control',
    'a b': true,
  }).replace('"a b"', '"__proto__"'),
) as SessionData

/** The native layout's one-statement save: statements per save and keys that must round-trip. */
export function patchSuite(suite: SqlSuiteOptions): void {
  const table = `sbt_${suite.prefix}_patch`
  const make = (client = suite.client()) => sqlBackend({ client, layout: 'native', table })

  describe(`${suite.name}, native layout: one-statement saves`, () => {
    beforeAll(async () => {
      await suite.client().query(`DROP TABLE IF EXISTS ${table}`)
      await migrate(suite.client(), { layout: 'native', table })
    })

    it('applies a plain change set in 1 statement, set and deleted, and loads the merged data', async () => {
      const counter = statementCounter(suite.client())
      const b = make(counter.client)
      const id = b.idFormat.generate()
      // The user column only (record() would also put the user id in the data).
      const created = { ...record({ keep: 'k', gone: 1, n: 0 }), userId: 'u1' }
      await b.create(id, created)
      // The same user, an expiry within the step (60 s) of the stored one: 1 statement, which
      // writes neither column (the stored expiry trails by the few ms since the create).
      const next = { ...record({ keep: 'k', n: 1, obj: { x: [1, 'y'] } }), userId: 'u1' }
      const changes = { set: { n: 1, obj: { x: [1, 'y'] } }, deleted: ['gone'] }
      expect(await counter.take(() => b.save(id, changes, next))).toBe(1)
      const loaded = await b.load(id)
      expect(loaded?.data).toEqual({ keep: 'k', n: 1, obj: { x: [1, 'y'] } })
      expect(loaded?.userId).toBe('u1')
      expect(loaded?.expiresAt).toBe(created.expiresAt)
      // An expiry beyond the step: the first statement matches nothing, the second writes it.
      const later = { ...record(loaded!.data, 2 * HOUR), userId: 'u1' }
      expect(await counter.take(() => b.save(id, { set: {}, deleted: [] }, later))).toBe(2)
      expect(await b.load(id)).toMatchObject({ expiresAt: later.expiresAt, userId: 'u1' })
      // A shorter expiry (a new max age) is written too, however close.
      const shorter = { ...later, expiresAt: later.expiresAt - 1000 }
      expect(await counter.take(() => b.save(id, { set: {}, deleted: [] }, shorter))).toBe(2)
      expect((await b.load(id))?.expiresAt).toBe(shorter.expiresAt)
      const oneMsShorter = { ...shorter, expiresAt: shorter.expiresAt - 1 }
      expect(await counter.take(() => b.save(id, { set: {}, deleted: [] }, oneMsShorter))).toBe(2)
      expect((await b.load(id))?.expiresAt).toBe(oneMsShorter.expiresAt)
      // A save that changes the user writes it (login and logout make a new session: rare).
      const moved = { ...oneMsShorter, data: { ...loaded!.data, n: 2 }, userId: 'u2' }
      expect(await counter.take(() => b.save(id, { set: { n: 2 }, deleted: [] }, moved))).toBe(2)
      expect(await b.load(id)).toMatchObject({ data: { n: 2 }, userId: 'u2' })
      const anonymous = { ...moved, userId: null }
      expect(await counter.take(() => b.save(id, { set: {}, deleted: [] }, anonymous))).toBe(2)
      // A native load also gives its version (SQLite: the row's, see below; else the JSON's length).
      const { version: _version, ...anonymousLoaded } = (await b.load(id))!
      expect(anonymousLoaded).toEqual({ data: moved.data, expiresAt: oneMsShorter.expiresAt, userId: null })
      expect(await counter.take(() => b.save(id, { set: {}, deleted: [] }, anonymous))).toBe(1)
      // A session that is gone: both statements match nothing: false, nothing created.
      const missing = b.idFormat.generate()
      expect(await counter.take(() => b.save(missing, changes, next))).toBe(2)
      expect(await b.save(missing, changes, next)).toBe(false)
      expect(await b.load(missing)).toBeNull()
    })

    it('expiryStep 0 writes the expiry with every save, still in 1 statement', async () => {
      const counter = statementCounter(suite.client())
      const b = sqlBackend({ client: counter.client, layout: 'native', table, expiryStep: 0 })
      const id = b.idFormat.generate()
      await b.create(id, record({ n: 0 }))
      const next = record({ n: 1 }, HOUR + 1)
      expect(await counter.take(() => b.save(id, { set: { n: 1 }, deleted: [] }, next))).toBe(1)
      expect(await b.load(id)).toMatchObject({ data: { n: 1 }, expiresAt: next.expiresAt })
    })

    it('round-trips awkward keys (dots, quotes, backslashes, unicode, __proto__, empty, control)', async () => {
      const b = make()
      const id = b.idFormat.generate()
      await b.create(id, record({ plain: 1 }))
      const merged: SessionData = { plain: 1, ...AWKWARD }
      expect(Object.hasOwn(merged, '__proto__')).toBe(true)
      expect(await b.save(id, { set: AWKWARD, deleted: [] }, record(merged))).toBe(true)
      expect((await b.load(id))?.data).toEqual(merged)
      // Each awkward key alone (one-statement or fallback), then deleted one by one.
      for (const key of Object.keys(AWKWARD)) {
        const set = JSON.parse(`{${JSON.stringify(key)}:"again"}`) as SessionData
        const after: SessionData = JSON.parse(JSON.stringify({ ...merged, ...set }))
        Object.assign(after, set)
        expect(await b.save(id, { set, deleted: [] }, record(after)), key).toBe(true)
        expect((await b.load(id))?.data?.[key], key).toBe('again')
      }
      for (const key of Object.keys(AWKWARD)) {
        expect(await b.save(id, { set: {}, deleted: [key] }, record({ plain: 1 })), key).toBe(true)
        expect(Object.hasOwn((await b.load(id))?.data ?? {}, key), key).toBe(false)
      }
      expect((await b.load(id))?.data).toEqual({ plain: 1 })
    })

    it('falls back to the locked read-merge-write only for keys a JSON path cannot name', async () => {
      const counter = statementCounter(suite.client())
      const b = make(counter.client)
      const id = b.idFormat.generate()
      await b.create(id, record({}))
      const oneStatement = suite.client().dialect === 'postgres' // jsonb `-` and `||` take any key
      for (const key of Object.keys(AWKWARD)) {
        const set = JSON.parse(`{${JSON.stringify(key)}:1}`) as SessionData
        const count = await counter.take(() => b.save(id, { set, deleted: [] }, record(set)))
        expect(count, key).toBe(oneStatement || pathSafeKey(key) ? 1 : 4)
      }
    })

    it('never saves an expired row back to life, even with an expiry within the step of its own', async () => {
      const counter = statementCounter(suite.client())
      const b = make(counter.client)
      const id = b.idFormat.generate()
      const expired = record({ a: 1 }, -1000)
      await b.create(id, expired)
      // 30 s ahead: within the 60 s step of the stored expiry, which passed a second ago.
      const within = { ...record({ a: 2 }, 30_000), userId: expired.userId }
      expect(await counter.take(() => b.save(id, { set: { a: 2 }, deleted: [] }, within))).toBe(2)
      expect(await b.save(id, { set: { a: 2 }, deleted: [] }, within)).toBe(false)
      expect(await b.load(id)).toBeNull()
      expect(await b.listUser!(expired.userId!)).toEqual([])
    })

    it('loads the user column as stored, whatever its characters (the load counts them as the database does)', async () => {
      const b = make()
      // Spaces, digits, a dash, JSON's own characters, 2- and 3-byte UTF-8, a surrogate pair.
      for (const userId of ['u1', '', '7 -{"a":1}', 'ü ключ', '😀x😀', null]) {
        const id = b.idFormat.generate()
        const created = { ...record({ n: 1 }), userId }
        await b.create(id, created)
        expect(await b.load(id)).toMatchObject({ data: created.data, expiresAt: created.expiresAt, userId })
      }
    })

    it('SQLite: a save of a row still at the loaded version writes the data whole, else patches', async (ctx) => {
      if (suite.client().dialect !== 'sqlite')
        return notApplicable(ctx, 'only SQLite saves by version (its JSON functions run in this process)')
      const counter = statementCounter(suite.client())
      const b = make(counter.client)
      const id = b.idFormat.generate()
      await b.create(id, { ...record({ n: 0, keep: 'k' }), userId: 'u1' })
      const first = await b.load(id)
      const second = await b.load(id)
      expect(first?.version).toMatch(/^\d+ 2 u1$/) // the row's version and its user
      // At the loaded version: 1 statement, the data as given (no patch would drop `keep` here).
      const mine = { ...first!, data: { n: 1, mine: true } }
      expect(
        await counter.take(() => b.save(id, { set: { n: 1, mine: true }, deleted: ['keep'] }, mine)),
      ).toBe(1)
      expect((await b.load(id))?.data).toEqual({ n: 1, mine: true })
      // The other request loaded before that write: both versioned statements miss, the patch merges.
      const theirs = { ...second!, data: { n: 0, keep: 'k', theirs: 2 } }
      expect(await counter.take(() => b.save(id, { set: { theirs: 2 }, deleted: [] }, theirs))).toBe(3)
      const merged = await b.load(id)
      expect(merged?.data).toEqual({ n: 1, mine: true, theirs: 2 })
      expect(Number.parseInt(merged!.version!, 10)).toBeGreaterThan(Number.parseInt(first!.version!, 10))
      // An expiry due (beyond the step): the versioned write with the expiry and user, 2 statements.
      const later = { ...merged!, expiresAt: merged!.expiresAt + 2 * HOUR, data: { ...merged!.data, n: 2 } }
      expect(await counter.take(() => b.save(id, { set: { n: 2 }, deleted: [] }, later))).toBe(2)
      expect(await b.load(id)).toMatchObject({ data: { n: 2 }, expiresAt: later.expiresAt, userId: 'u1' })
      // A version that is no whole number (not this backend's): patched, as without one.
      const odd = { ...later, version: 'x', data: { ...later.data, n: 3 } }
      expect(await counter.take(() => b.save(id, { set: { n: 3 }, deleted: [] }, odd))).toBe(1)
      expect((await b.load(id))?.data).toMatchObject({ n: 3, theirs: 2 })
      // A session gone: nothing written, nothing created.
      await b.destroy(id)
      expect(await b.save(id, { set: { n: 4 }, deleted: [] }, later)).toBe(false)
      expect(await b.load(id)).toBeNull()
    })

    it('SQLite: a save keeping the loaded expiry and user at the loaded version asks the version only', async (ctx) => {
      if (suite.client().dialect !== 'sqlite')
        return notApplicable(ctx, 'only SQLite saves by version (its JSON functions run in this process)')
      const counter = statementCounter(suite.client())
      const b = make(counter.client)
      const kept = { expiryKept: true }
      const id = b.idFormat.generate()
      await b.create(id, { ...record({ n: 0 }), userId: 'u1' })
      const first = (await b.load(id))!
      const stale = (await b.load(id))!
      // At the loaded version, the same user: 1 statement, which names neither the expiry nor the
      // user; the expiry stays as loaded.
      const versionOnly = /^UPDATE \S+ SET data = \?, version = version \+ 1 WHERE id = \? AND version = \?$/
      const mine = { ...first, data: { n: 1 } }
      expect(await counter.take(() => b.save(id, { set: { n: 1 }, deleted: [], ...kept }, mine))).toBe(1)
      expect(counter.texts).toEqual([expect.stringMatching(versionOnly)])
      const saved = (await b.load(id))!
      expect(saved).toMatchObject({ data: { n: 1 }, expiresAt: first.expiresAt, userId: 'u1' })
      expect(Number.parseInt(saved.version!, 10)).toBe(Number.parseInt(first.version!, 10) + 1)
      // The other request's version is gone: both versioned statements miss, the patch merges.
      const theirs = { ...stale, data: { n: 0, theirs: 2 } }
      expect(await counter.take(() => b.save(id, { set: { theirs: 2 }, deleted: [], ...kept }, theirs))).toBe(
        3,
      )
      const merged = (await b.load(id))!
      expect(merged.data).toEqual({ n: 1, theirs: 2 })
      // The user changed at the loaded version (the version token names the loaded one): the
      // statement that writes the user, at once.
      const moved = { ...merged, userId: 'u2' }
      expect(await counter.take(() => b.save(id, { set: {}, deleted: [], ...kept }, moved))).toBe(1)
      expect(counter.texts).toEqual([expect.stringContaining('user_id = ?')])
      const movedRow = (await b.load(id))!
      expect(movedRow).toMatchObject({ data: merged.data, expiresAt: first.expiresAt, userId: 'u2' })
      // Another user of the same length, a longer one ending alike, none: each written the same way.
      for (const userId of ['x2', 'xu2', null]) {
        const row = (await b.load(id))!
        const other = { ...row, userId }
        expect(await counter.take(() => b.save(id, { set: {}, deleted: [], ...kept }, other))).toBe(1)
        expect((await b.load(id))?.userId).toBe(userId)
      }
      // The same user at the version: the version-only statement again.
      const anonymous = (await b.load(id))!
      expect(anonymous.version).toMatch(/^\d+ -$/)
      expect(
        await counter.take(() =>
          b.save(id, { set: { n: 5 }, deleted: [], ...kept }, { ...anonymous, data: { n: 5 } }),
        ),
      ).toBe(1)
      expect(counter.texts).toEqual([expect.stringMatching(versionOnly)])
      expect(await b.load(id)).toMatchObject({ data: { n: 5 }, userId: null })
      // Loaded live, expired before its save: nothing written.
      const brief = b.idFormat.generate()
      await b.create(brief, record({ n: 0 }, 30))
      const loaded = await b.load(brief)
      expect(loaded).not.toBeNull()
      await sleep(50)
      expect(
        await b.save(brief, { set: { n: 1 }, deleted: [], ...kept }, { ...loaded!, data: { n: 1 } }),
      ).toBe(false)
      const q = (build: (p: () => string) => string) => sqlStatement('sqlite', build)
      const { rows } = await suite.client().query<{ data: string }>(
        q((p) => `SELECT data FROM ${table} WHERE id = ${p()}`),
        [brief],
      )
      expect(JSON.parse(rows[0]!.data)).toEqual({ n: 0 })
    })

    it('never overwrites a row whose data is not JSON at all (SQLite text column)', async (ctx) => {
      if (suite.client().dialect !== 'sqlite')
        return notApplicable(
          ctx,
          'only SQLite stores data as plain text (jsonb and json columns refuse non-JSON)',
        )
      const b = make()
      const id = b.idFormat.generate()
      await b.create(id, record({ a: 1 }))
      const q = (build: (p: () => string) => string) => sqlStatement('sqlite', build)
      await suite.client().query(
        q((p) => `UPDATE ${table} SET data = 'not json {' WHERE id = ${p()}`),
        [id],
      )
      expect(await b.save(id, { set: { a: 2 }, deleted: [] }, record({ a: 2 }))).toBe(false)
      const { rows } = await suite.client().query<{ data: string }>(
        q((p) => `SELECT data FROM ${table} WHERE id = ${p()}`),
        [id],
      )
      expect(rows[0]?.data).toBe('not json {')
    })
  })
}

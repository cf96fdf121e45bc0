import { describe, expect, it, type TestContext } from 'vitest'
import { isPlainObject } from '../codec-json.ts'
import { SessionBackendError, SessionConflictError, SessionError } from '../errors.ts'
import { createSessionManager } from '../manager.ts'
import type { ChangeSet, SessionBackend, SessionRecord } from '../types.ts'

/** Options of `testBackend`. */
export interface BackendTestOptions {
  /** Shown in the suite's title. */
  name: string
  /** Returns the backend under test; called once per test. */
  backend: () => SessionBackend | Promise<SessionBackend>
  /** Writes undecodable bytes as the stored value of `id` (for the malformed-data test). */
  corrupt?: (backend: SessionBackend, id: string) => Promise<void>
  /** Called after each test with the backend, to close what `backend()` opened. */
  teardown?: (backend: SessionBackend) => Promise<void>
  /** Smallest expiry step the store honours, ms (memcached and SQL: 1000). @default 1000 */
  expiryResolutionMs?: number
  /** Size of the large-value test. @default 200_000 */
  largeValueBytes?: number
  /** Parallel writers in the concurrency test. @default 25 */
  concurrentWriters?: number
}

declare module 'vitest' {
  interface TaskMeta {
    /** Why this test does not apply (a capability the backend does not declare). See `notApplicable`. */
    notApplicable?: string
  }
}

/**
 * Skips the running test because it does not apply to what is under test (a capability it does
 * not declare, a harness hook it does not offer). The reason is recorded in the test's `meta`, so
 * CI (`.ci/run`) can tell a not-applicable skip, which it allows, from any other skip (a missing
 * service), which fails the run.
 */
export function notApplicable(ctx: TestContext, reason: string): never {
  ctx.task.meta.notApplicable = reason
  ctx.skip(reason)
  throw new Error('unreachable: ctx.skip() throws')
}

const HOUR = 3_600_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
let userCounter = 0
const freshUser = () => `user-${Date.now().toString(36)}-${++userCounter}`

/** `{ __proto__: value }` as an own, plain key (an object literal would set the prototype instead). */
function withProtoKey(value: unknown): Record<string, unknown> {
  return JSON.parse(`{"__proto__":${JSON.stringify(value)}}`) as Record<string, unknown>
}

/** The loaded data holds `__proto__` as plain data: nothing inherited from it, the value intact. */
function expectPlainProtoKey(data: Record<string, unknown> | undefined, value: unknown, what: string): void {
  expect(data, what).toBeDefined()
  expect(data!.isAdmin, `${what}: a stored "__proto__" key became the prototype`).toBeUndefined()
  expect(isPlainObject(data), `${what}: data has a foreign prototype`).toBe(true)
  expect(Object.hasOwn(data!, '__proto__'), `${what}: the "__proto__" key was dropped`).toBe(true)
  expect(Object.getOwnPropertyDescriptor(data!, '__proto__')?.value, what).toEqual(value)
}

function record(data: Record<string, unknown>, ttlMs = HOUR, userId: string | null = null): SessionRecord {
  const uid = userId ?? freshUser()
  return { data: { _auth_user_id: uid, ...data }, expiresAt: Date.now() + ttlMs, userId: uid }
}

/**
 * The conformance suite every backend runs against its real server. It checks the contract in
 * `SessionBackend`: round trips, expiry, touch, regenerate, destroy, collisions, merging of
 * concurrent writers, malformed stored data, and the declared optional capabilities.
 */
export function testBackend(options: BackendTestOptions): void {
  const resolution = options.expiryResolutionMs ?? 1000
  const large = options.largeValueBytes ?? 200_000
  const writers = options.concurrentWriters ?? 25

  // A test that does not apply to this backend calls `notApplicable()`: it reports *skipped*, never a pass.
  const withBackend =
    (fn: (b: SessionBackend, ctx: TestContext) => Promise<void>) => async (ctx: TestContext) => {
      const b = await options.backend()
      try {
        // Capabilities a backend learns from its server are final once ready() resolves.
        await b.ready?.()
        await fn(b, ctx)
      } finally {
        await options.teardown?.(b)
      }
    }
  // The update and undecodable-rule tests below take the test context too.
  const withContext = withBackend
  const create = async (b: SessionBackend, rec: SessionRecord): Promise<string> => {
    const id = await b.create(b.idFormat.generate(), rec)
    expect(id, 'create() returned no id for a fresh random id').toBeTypeOf('string')
    expect(b.idFormat.validate(id!), 'create() returned an id its own idFormat rejects').toBe(true)
    return id!
  }

  describe(`SessionBackend conformance: ${options.name}`, () => {
    it(
      'declares its capabilities and an id format of 128+ bits',
      withBackend(async (b) => {
        expect(typeof b.name).toBe('string')
        for (const key of [
          'merge',
          'issuesIds',
          'anonymous',
          'destroyUser',
          'listUser',
          'clearExpired',
          'update',
        ] as const) {
          expect(typeof b.capabilities[key], `capabilities.${key}`).toBe('boolean')
        }
        if (b.capabilities.destroyUser) expect(typeof b.destroyUser).toBe('function')
        if (b.capabilities.listUser) expect(typeof b.listUser).toBe('function')
        if (b.capabilities.clearExpired) expect(typeof b.clearExpired).toBe('function')
        if (b.capabilities.update) expect(typeof b.update).toBe('function')
        const ids = new Set(Array.from({ length: 200 }, () => b.idFormat.generate()))
        expect(ids.size).toBe(200)
        expect(b.idFormat.validate('x')).toBe(false)
        expect(b.idFormat.validate('')).toBe(false)
      }),
    )

    it(
      'round-trips data and the user id',
      withBackend(async (b) => {
        const rec = record({ n: 42, s: 'text', b: true, z: null, list: [1, 'two'], nested: { a: { b: 1 } } })
        const id = await create(b, rec)
        const loaded = await b.load(id)
        expect(loaded?.data).toEqual(rec.data)
        expect(loaded?.userId).toBe(rec.userId)
        expect(Math.abs(loaded!.expiresAt - rec.expiresAt)).toBeLessThanOrEqual(resolution + 1000)
      }),
    )

    it(
      'keeps unicode and large values intact',
      withBackend(async (b) => {
        const text = 'héllo 日本 😀 \u2028 "quotes" \\ <tag>'
        const big = 'x'.repeat(large)
        const id = await create(b, record({ text, big, [`key ${text}`]: 1 }))
        const loaded = await b.load(id)
        expect(loaded?.data.text).toBe(text)
        expect(loaded?.data.big).toBe(big)
        expect(loaded?.data[`key ${text}`]).toBe(1)
      }),
    )

    it(
      'answers null for an unknown id',
      withBackend(async (b) => {
        expect(await b.load(b.idFormat.generate())).toBeNull()
      }),
    )

    it(
      'stops returning a record once it expires',
      withBackend(async (b) => {
        const id = await create(b, record({ a: 1 }, resolution * 2))
        expect((await b.load(id))?.data.a).toBe(1)
        await sleep(resolution * 3 + 200)
        expect(await b.load(id)).toBeNull()
      }),
    )

    it(
      'touch moves the expiry without changing data',
      withBackend(async (b) => {
        const id = await create(b, record({ a: 1 }, resolution * 2))
        if (b.capabilities.fixedTtl) {
          // The store slides by the lifetime fixed at create: a touch halfway keeps the record
          // alive past its first deadline, by that lifetime only.
          await sleep(resolution)
          expect(await b.touch(id, Date.now() + resolution * 2)).toBe(true)
          await sleep(resolution + 2500)
          expect((await b.load(id))?.data.a).toBe(1)
          expect(await b.touch(b.idFormat.generate(), Date.now() + HOUR)).toBe(false)
          return
        }
        expect(await b.touch(id, Date.now() + HOUR)).toBe(true)
        await sleep(resolution * 3 + 200)
        const loaded = await b.load(id)
        expect(loaded?.data.a).toBe(1)
        expect(await b.touch(b.idFormat.generate(), Date.now() + HOUR)).toBe(false)
      }),
    )

    it(
      'saves changes: set keys, deleted keys, untouched keys kept',
      withBackend(async (b) => {
        const rec = record({ keep: 1, drop: 2, change: 3 })
        const id = await create(b, rec)
        const data = { ...rec.data, change: 30, added: 'new' } as Record<string, unknown>
        delete data.drop
        const saved = await b.save(
          id,
          { set: { change: 30, added: 'new' }, deleted: ['drop'] },
          { ...rec, data },
        )
        expect(saved).toBe(true)
        expect((await b.load(id))?.data).toEqual(data)
      }),
    )

    it(
      'does not resurrect a destroyed session on save or touch',
      withBackend(async (b) => {
        const rec = record({ a: 1 })
        const id = await create(b, rec)
        await b.destroy(id)
        expect(await b.load(id)).toBeNull()
        expect(
          await b.save(id, { set: { a: 2 }, deleted: [] }, { ...rec, data: { ...rec.data, a: 2 } }),
        ).toBe(false)
        expect(await b.touch(id, Date.now() + HOUR)).toBe(false)
        expect(await b.load(id)).toBeNull()
        await b.destroy(id) // destroying a missing record is not an error
      }),
    )

    it(
      'regenerates: same data under a new id, old id dead',
      withBackend(async (b) => {
        const rec = record({ cart: [1, 2] })
        const oldId = await create(b, rec)
        const newId = await create(b, rec)
        await b.destroy(oldId)
        expect(newId).not.toBe(oldId)
        expect(await b.load(oldId)).toBeNull()
        expect((await b.load(newId))?.data.cart).toEqual([1, 2])
      }),
    )

    it(
      'refuses to create over an existing id (or issues its own)',
      withBackend(async (b) => {
        const first = record({ owner: 'first' })
        const id = await create(b, first)
        const second = await b.create(id, record({ owner: 'second' }))
        if (b.capabilities.issuesIds) expect(second).not.toBe(id)
        else expect(second).toBeNull()
        expect((await b.load(id))?.data.owner).toBe('first')
      }),
    )

    it(
      'keeps every key when concurrent requests write different keys (merge backends)',
      withBackend(async (b) => {
        const rec = record({ base: true })
        const id = await create(b, rec)
        await Promise.all(
          Array.from({ length: writers }, (_, i) =>
            b.save(
              id,
              { set: { [`k${i}`]: i }, deleted: [] },
              { ...rec, data: { ...rec.data, [`k${i}`]: i } },
            ),
          ),
        )
        const loaded = await b.load(id)
        expect(loaded?.data.base).toBe(true)
        const present = Array.from({ length: writers }, (_, i) => loaded?.data[`k${i}`] === i).filter(
          Boolean,
        ).length
        if (b.capabilities.merge) expect(present).toBe(writers)
        else expect(present).toBeGreaterThanOrEqual(1)
      }),
    )

    it(
      'keeps a key named "__proto__" as plain data, never as the prototype (load and merge)',
      withBackend(async (b) => {
        const rec = record({ a: 1 })
        const id = await create(b, { ...rec, data: { ...rec.data, ...withProtoKey({ isAdmin: true }) } })
        expectPlainProtoKey((await b.load(id))?.data, { isAdmin: true }, 'after create')
        // A merge into a record that has no such key yet (an existing own key would hide the bug).
        const plain = await create(b, rec)
        const set = withProtoKey({ isAdmin: 'again' })
        const data = { ...rec.data, ...set }
        expect(await b.save(plain, { set, deleted: [] }, { ...rec, data })).toBe(true)
        expectPlainProtoKey((await b.load(plain))?.data, { isAdmin: 'again' }, 'after save')
      }),
    )

    it(
      'through a Session: set("__proto__", { isAdmin: true }) never makes get("isAdmin") true',
      withBackend(async (b) => {
        const manager = createSessionManager({ backend: b, timeout: 10_000 })
        const first = await manager.open({ cookie: null })
        first.set('_auth_user_id', freshUser())
        first.set('__proto__', { isAdmin: true })
        expect(await first.get('isAdmin'), 'in the same request').toBeUndefined()
        expect(await first.get('__proto__')).toEqual({ isAdmin: true })
        expect((await first.all()).isAdmin).toBeUndefined()
        const { setCookie } = await first.commit()
        const cookie = setCookie?.split(';')[0] ?? null
        expect(cookie, 'the new session got a cookie').not.toBeNull()
        const second = await manager.open({ cookie })
        expect(await second.get('isAdmin'), 'in the next request').toBeUndefined()
        expect(await second.get('__proto__'), '"__proto__" round-trips as a plain key').toEqual({
          isAdmin: true,
        })
        await second.commit()
        if (second.id) await b.destroy(second.id)
      }),
    )

    it(
      'treats malformed stored data as no session or a typed error, never a crash',
      withBackend(async (b, ctx) => {
        if (!options.corrupt) notApplicable(ctx, 'the harness offers no corrupt() for this backend')
        const id = await create(b, record({ a: 1 }))
        await options.corrupt(b, id)
        let result: unknown
        try {
          result = await b.load(id)
        } catch (error) {
          expect(error).toBeInstanceOf(SessionBackendError)
          return
        }
        expect(result).toBeNull()
      }),
    )

    it(
      'never overwrites a record it cannot decode: save and update answer "gone" and write nothing',
      withContext(async (b, ctx) => {
        if (!options.corrupt) return notApplicable(ctx, 'no corrupt() given')
        const rec = record({ a: 1 })
        const id = await create(b, rec)
        await options.corrupt(b, id)
        const data = { ...rec.data, a: 2 }
        expect(await b.save(id, { set: { a: 2 }, deleted: [] }, { ...rec, data })).toBe(false)
        if (b.capabilities.update) {
          const fn = () => 3
          expect(await b.update!(id, 'a', fn, { ...rec, maxAttempts: 3 })).toBeNull()
        }
        expect(await b.load(id), 'the undecodable record was replaced').toBeNull()
        if (!b.capabilities.issuesIds) expect(await b.create(id, rec), 'create over it').toBeNull()
      }),
    )

    it(
      'update: parallel read-modify-writes of one key lose nothing (when declared)',
      withContext(async (b, ctx) => {
        if (!b.capabilities.update) return notApplicable(ctx, 'capabilities.update is false')
        const rec = record({ other: 'kept' })
        const id = await create(b, rec)
        const increment = (n: unknown) => (typeof n === 'number' ? n : 0) + 1
        // A lock-free store fails an attempt only when another writer succeeded: N attempts suffice.
        const results = await Promise.all(
          Array.from({ length: writers }, () =>
            b.update!(id, 'count', increment, { ...rec, maxAttempts: writers }),
          ),
        )
        const values = results.map((r) => r?.value).sort((x, y) => Number(x) - Number(y))
        expect(values).toEqual(Array.from({ length: writers }, (_, i) => i + 1))
        const loaded = await b.load(id)
        expect(loaded?.data.count).toBe(writers)
        expect(loaded?.data.other).toBe('kept')
        expect(loaded?.userId).toBe(rec.userId)
      }),
    )

    it(
      'update: out of attempts is a SessionConflictError, never a silent loss (when declared)',
      withContext(async (b, ctx) => {
        if (!b.capabilities.update) return notApplicable(ctx, 'capabilities.update is false')
        const rec = record({})
        const id = await create(b, rec)
        const increment = (n: unknown) => (typeof n === 'number' ? n : 0) + 1
        const settled = await Promise.allSettled(
          Array.from({ length: writers }, () =>
            b.update!(id, 'count', increment, { ...rec, maxAttempts: 1 }),
          ),
        )
        const won = settled.filter((s) => s.status === 'fulfilled')
        for (const s of settled) {
          if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(SessionConflictError)
        }
        const values = won
          .map((s) => (s.value as { value: unknown }).value)
          .sort((x, y) => Number(x) - Number(y))
        expect(values).toEqual(Array.from({ length: won.length }, (_, i) => i + 1))
        expect((await b.load(id))?.data.count).toBe(won.length)
      }),
    )

    it(
      'update: sets, deletes, keeps other keys, returns the stored data; null for a missing record (when declared)',
      withContext(async (b, ctx) => {
        if (!b.capabilities.update) return notApplicable(ctx, 'capabilities.update is false')
        const rec = record({ keep: { deep: [1] }, gone: 1 })
        const id = await create(b, rec)
        const set = await b.update!(id, 'cart', (c) => [...((c as number[]) ?? []), 7], {
          ...rec,
          maxAttempts: 3,
        })
        expect(set?.value).toEqual([7])
        expect(set?.data).toEqual({ ...rec.data, cart: [7] })
        const removed = await b.update!(id, 'gone', () => undefined, { ...rec, maxAttempts: 3 })
        expect(removed?.value).toBeUndefined()
        expect(Object.hasOwn(removed!.data, 'gone')).toBe(false)
        const loaded = await b.load(id)
        expect(loaded?.data).toEqual({ _auth_user_id: rec.userId, keep: { deep: [1] }, cart: [7] })
        let calls = 0
        const counting = () => ++calls
        expect(await b.update!(b.idFormat.generate(), 'x', counting, { ...rec, maxAttempts: 3 })).toBeNull()
        await b.destroy(id)
        expect(await b.update!(id, 'x', counting, { ...rec, maxAttempts: 3 })).toBeNull()
        expect(await b.load(id), 'update resurrected a destroyed record').toBeNull()
      }),
    )

    it(
      'a backend without capabilities.update is never asked to update',
      withContext(async (b, ctx) => {
        if (b.capabilities.update) return notApplicable(ctx, 'capabilities.update is true')
        const rec = record({ count: 1 })
        const id = await create(b, rec)
        let asked = 0
        const spied: SessionBackend = Object.create(b, {
          update: { value: async () => ++asked && null },
        })
        const manager = createSessionManager({ backend: spied })
        const session = await manager.open({ cookie: `sessionid=${id}`, protocol: 'https' })
        await expect(session.update('count', (n) => (n as number) + 1)).rejects.toBeInstanceOf(SessionError)
        expect(asked).toBe(0)
        expect((await b.load(id))?.data.count).toBe(1)
      }),
    )

    it(
      'destroys and lists the sessions of one user (when declared)',
      withBackend(async (b, ctx) => {
        if (!b.capabilities.destroyUser && !b.capabilities.listUser) {
          notApplicable(ctx, 'declares neither destroyUser nor listUser')
        }
        const user = freshUser()
        const other = freshUser()
        const a = await create(b, record({ n: 1 }, HOUR, user))
        const c = await create(b, record({ n: 2 }, HOUR, user))
        const keep = await create(b, record({ n: 3 }, HOUR, other))
        if (b.capabilities.listUser) expect((await b.listUser!(user)).sort()).toEqual([a, c].sort())
        if (b.capabilities.destroyUser) {
          expect(await b.destroyUser!(user)).toBe(2)
          expect(await b.load(a)).toBeNull()
          expect(await b.load(c)).toBeNull()
          expect(await b.load(keep)).not.toBeNull()
          if (b.capabilities.listUser) expect(await b.listUser!(user)).toEqual([])
        }
      }),
    )

    it(
      'finds a session whose user a save set, and not one whose user a save removed (when declared)',
      withBackend(async (b, ctx) => {
        if (!b.capabilities.destroyUser && !b.capabilities.listUser) {
          notApplicable(ctx, 'declares neither destroyUser nor listUser')
        }
        if (!b.capabilities.anonymous) notApplicable(ctx, 'cannot hold a session without a user')
        const user = freshUser()
        const anonymous = { data: { n: 1 }, expiresAt: Date.now() + HOUR, userId: null }
        const joined = await create(b, anonymous)
        const login: ChangeSet = { set: { _auth_user_id: user }, deleted: [] }
        const version = (await b.load(joined))?.version
        const withUser = { data: { n: 1, _auth_user_id: user }, expiresAt: Date.now() + HOUR, userId: user }
        expect(
          await b.save(joined, login, { ...withUser, ...(version === undefined ? {} : { version }) }),
        ).toBe(true)
        const left = await create(b, record({ n: 2 }, HOUR, user))
        const logout: ChangeSet = { set: {}, deleted: ['_auth_user_id'] }
        const leftVersion = (await b.load(left))?.version
        const anonymousAgain = {
          ...anonymous,
          data: { n: 2 },
          ...(leftVersion === undefined ? {} : { version: leftVersion }),
        }
        expect(await b.save(left, logout, anonymousAgain)).toBe(true)
        if (b.capabilities.listUser) expect(await b.listUser!(user)).toEqual([joined])
        if (b.capabilities.destroyUser) {
          expect(await b.destroyUser!(user)).toBe(1)
          expect(await b.load(joined)).toBeNull()
          expect((await b.load(left))?.data.n).toBe(2)
        }
      }),
    )

    it(
      'clears expired records and keeps live ones (when declared)',
      withBackend(async (b, ctx) => {
        if (!b.capabilities.clearExpired) notApplicable(ctx, 'does not declare clearExpired')
        const gone = await create(b, record({ a: 1 }, resolution))
        const live = await create(b, record({ a: 2 }, HOUR))
        await sleep(resolution * 2 + 200)
        expect(await b.clearExpired!()).toBeGreaterThanOrEqual(1)
        expect(await b.load(gone)).toBeNull()
        expect((await b.load(live))?.data.a).toBe(2)
      }),
    )
  })
}
export { type AttemptStoreTestOptions, testAttemptStore } from './attempts.ts'
export { timersOfAnIncrement } from './deadlines.ts'
export {
  type FrameworkSecurityOptions,
  type SecurityAppOptions,
  testFrameworkSecurity,
} from './security-http.ts'
export { settlesInItsTurn } from './turns.ts'

import { createSessionManager, SessionConfigError, SessionDataError } from '@sessionbridge/core'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JSON_MARKER, RestSessionsAnonymousError, restSessionsBackend } from '../src/index.ts'
import { startServer } from './helpers.ts'

const HOUR = 3_600_000

describe.skipIf(!(await serviceAvailable('redis')))('rest-sessions backend behaviour', () => {
  let ctx: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    ctx = await startServer()
  })
  afterAll(async () => {
    await ctx?.stop()
  })
  const raw = async (path: string) =>
    (await fetch(`${ctx.url}${path}`)).json() as Promise<Record<string, unknown>>

  it('stores flat values as they are and marks the rest as JSON text', async () => {
    const b = restSessionsBackend({ url: ctx.url, app: 'values' })
    const data = { s: 'x', n: 1.5, t: true, z: null, o: { a: [1] }, tricky: `${JSON_MARKER}not json` }
    const id = (await b.create('ignored', { data, expiresAt: Date.now() + HOUR, userId: 'u1' }))!
    const stored = (await raw(`/values/get/${id}`)).d as Record<string, unknown>
    expect(stored).toEqual({
      s: 'x',
      n: 1.5,
      t: true,
      z: `${JSON_MARKER}null`,
      o: `${JSON_MARKER}{"a":[1]}`,
      tricky: `${JSON_MARKER}"${JSON_MARKER.replace('\u0000', '\\u0000')}not json"`,
    })
    expect((await b.load(id))?.data).toEqual(data)
    expect((await b.load(id))?.userId).toBe('u1')
  })

  it('refuses what it cannot store when encodeValues is off, naming the key', async () => {
    const b = restSessionsBackend({ url: ctx.url, app: 'values', encodeValues: false })
    const create = b.create('x', { data: { ok: 1, cart: [1, 2] }, expiresAt: Date.now() + HOUR, userId: 'u' })
    await expect(create).rejects.toBeInstanceOf(SessionDataError)
    await expect(create).rejects.toThrow(/"cart"/)
    const bigint = restSessionsBackend({ url: ctx.url, app: 'values' })
    await expect(
      bigint.create('x', { data: { big: 1n }, expiresAt: Date.now() + HOUR, userId: 'u' }),
    ).rejects.toThrow(/"big"/)
  })

  it('save sends only the changes: another writer’s keys survive', async () => {
    const b = restSessionsBackend({ url: ctx.url, app: 'merge' })
    const rec = { data: { a: 1, b: 2 }, expiresAt: Date.now() + HOUR, userId: 'u' }
    const id = (await b.create('x', rec))!
    await b.save(id, { set: { c: 3 }, deleted: [] }, { ...rec, data: { a: 1, b: 2, c: 3 } })
    await b.save(id, { set: {}, deleted: ['a'] }, { ...rec, data: { b: 2 } })
    expect((await b.load(id))?.data).toEqual({ b: 2, c: 3 })
  })

  it('creates no session without a user, unless anonymousId is set', async () => {
    const b = restSessionsBackend({ url: ctx.url, app: 'anon' })
    expect(b.capabilities.anonymous).toBe(false)
    const rec = { data: { a: 1 }, expiresAt: Date.now() + HOUR, userId: null }
    await expect(b.create('x', rec)).rejects.toBeInstanceOf(RestSessionsAnonymousError)
    const shared = restSessionsBackend({ url: ctx.url, app: 'anon', anonymousId: 'anonymous' })
    expect(shared.capabilities.anonymous).toBe(true)
    const id = (await shared.create('x', rec))!
    expect((await shared.load(id))?.userId).toBe('anonymous')
  })

  it('an anonymous write without anonymousId fails the request with a 500 naming the fix', async () => {
    const manager = createSessionManager({ backend: restSessionsBackend({ url: ctx.url, app: 'anon' }) })
    const session = await manager.open({ cookie: null })
    session.set('cart', [1])
    const error = await session.commit().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RestSessionsAnonymousError)
    expect(error).toBeInstanceOf(SessionDataError)
    expect(error).toMatchObject({ status: 500, statusCode: 500 })
    expect((error as Error).message).toMatch(/anonymousId/)
  })

  it('exposes activity, the app listing and the user listing', async () => {
    const b = restSessionsBackend({ url: ctx.url, app: 'listing', ip: '10.1.2.3' })
    await b.create('x', { data: { a: 1 }, expiresAt: Date.now() + HOUR, userId: 'user one' })
    await b.create('x', { data: { a: 2 }, expiresAt: Date.now() + HOUR, userId: 'user one' })
    await b.create('x', { data: {}, expiresAt: Date.now() + HOUR, userId: 'two' })
    expect(await b.activity(600)).toBe(2)
    expect(await b.appSessions(600)).toHaveLength(3)
    const mine = await b.userSessions('user one')
    expect(mine.map((s) => s.ip)).toEqual(['10.1.2.3', '10.1.2.3'])
    expect(await b.destroyUser!('user one')).toBe(2)
    expect(await b.userSessions('user one')).toEqual([])
    await expect(b.activity(5)).rejects.toThrow(RangeError)
  })

  it('works under the session lifecycle: login creates, writes merge, logout destroys', async () => {
    const backend = restSessionsBackend({ url: ctx.url, app: 'lifecycle' })
    const manager = createSessionManager({ backend })
    const s1 = await manager.open({ cookie: null })
    s1.set('_auth_user_id', '42')
    s1.set('cart', [1, 2])
    const c1 = await s1.commit()
    expect(c1.reason).toBe('create')
    const cookie = c1.setCookie!.split(';')[0]!
    const s2 = await manager.open({ cookie })
    expect(await s2.get('cart')).toEqual([1, 2])
    s2.destroy()
    expect((await s2.commit()).reason).toBe('destroy')
    expect(await raw(`/lifecycle/soid/42`)).toEqual({ sessions: [] })
  })

  it('fails fast on misconfiguration', () => {
    expect(() => restSessionsBackend({ url: 'not a url', app: 'app' })).toThrow(SessionConfigError)
    expect(() => restSessionsBackend({ url: ctx.url, app: 'x' })).toThrow(/option "app"/)
    expect(() => restSessionsBackend({ url: ctx.url, app: 'app', ttl: 5 })).toThrow(/option "ttl"/)
    expect(() => restSessionsBackend({ url: ctx.url, app: 'app', ip: 'x'.repeat(40) })).toThrow(/option "ip"/)
  })
})

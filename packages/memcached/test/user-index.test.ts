import { createSessionManager, SessionConfigError, type SessionRecord } from '@sessionbridge/core'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, type MemcachedClientAdapter, memcachedBackend } from '../src/index.ts'
import { testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')
const servers = SERVICE_URLS.memcached.split(',')
const quiet = { warn() {} }
const HOUR = 3_600_000

const record = (userId: string | null, data: Record<string, unknown> = {}): SessionRecord => ({
  data: userId === null ? { ...data } : { _auth_user_id: userId, ...data },
  expiresAt: Date.now() + HOUR,
  userId,
})

/** The client with a count of the commands each backend call sends. */
function counting(client: MemcachedClientAdapter) {
  const counts = { get: 0, set: 0, delete: 0, touch: 0 }
  const counted =
    <A extends unknown[], R>(name: keyof typeof counts, fn: (...args: A) => R) =>
    (...args: A): R => {
      counts[name]++
      return fn(...args)
    }
  const wrapped: MemcachedClientAdapter = {
    get: counted('get', (key: string, options?: { touch?: number }) => client.get(key, options)),
    set: counted('set', client.set.bind(client)),
    delete: counted('delete', (key: string, options?: { cas?: string }) => client.delete(key, options)),
    touch: counted('touch', client.touch.bind(client)),
  }
  const take = async (fn: () => Promise<unknown>) => {
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 0
    await fn()
    return counts.get + counts.set + counts.delete + counts.touch
  }
  return { wrapped, take }
}

describe.skipIf(!up)('memcached user index (log out everywhere)', () => {
  const client = createMemcachedClient({ servers })
  afterAll(() => client.close())
  const fresh = (what: string, extra: { userIndex?: boolean; userIndexTtl?: number } = {}) => {
    const prefix = testPrefix(what)
    const { wrapped, take } = counting(client)
    const backend = memcachedBackend({ client: wrapped, prefix, logger: quiet, ...extra })
    return { backend, prefix, take, user: `u ${prefix}` }
  }

  it('costs 2 round trips per login and none on other requests (measured by command count)', async () => {
    const { backend, take, user } = fresh('cost')
    const plain = fresh('cost-off', { userIndex: false })
    const gen = () => backend.idFormat.generate()
    const login = gen()
    expect(await take(() => backend.create(login, record(user)))).toBe(3) // index get + set, session add
    expect(await plain.take(() => plain.backend.create(gen(), record(user)))).toBe(1)
    expect(await take(() => backend.create(gen(), record(null)))).toBe(1) // anonymous: no index
    const loaded = await backend.load(login)
    expect(await take(() => backend.load(login))).toBe(1)
    expect(await take(() => backend.touch(login, Date.now() + HOUR))).toBe(1)
    const save = () =>
      backend.save(login, { set: { n: 1 }, deleted: [] }, { ...record(user), version: loaded!.version })
    expect(await take(save)).toBe(1)
    expect(await take(() => backend.destroy(login))).toBe(1)
    // A save that sets the user (a login without a new id) lists the session too.
    const anon = gen()
    await backend.create(anon, record(null))
    const version = (await backend.load(anon))!.version
    const setUser = { set: { _auth_user_id: user }, deleted: [] }
    expect(await take(() => backend.save(anon, setUser, { ...record(user), version }))).toBe(3)
    expect(await backend.listUser!(user)).toEqual([anon])
  })

  it('logs out everywhere through the manager: login, then destroyUser, then the cookie is dead', async () => {
    const { backend, user } = fresh('manager')
    const manager = createSessionManager({ backend })
    const cookies: string[] = []
    for (let i = 0; i < 3; i++) {
      const session = await manager.open({ protocol: 'https' })
      await session.set('_auth_user_id', user)
      session.regenerate()
      const { setCookie } = await session.commit()
      cookies.push(setCookie!.split(';')[0]!)
    }
    const other = fresh('manager-other')
    await other.backend.create(backend.idFormat.generate(), record(user)) // another prefix: untouched
    expect(await backend.listUser!(user)).toHaveLength(3)
    expect(await backend.destroyUser!(user)).toBe(3)
    for (const cookie of cookies) {
      const session = await manager.open({ cookie, protocol: 'https' })
      expect(await session.get('_auth_user_id')).toBeUndefined()
    }
    expect(await other.backend.listUser!(user)).toHaveLength(1)
    expect(await backend.destroyUser!(user)).toBe(0)
  })

  it('keeps every session of concurrent logins (the index is written under CAS)', async () => {
    const { backend, user } = fresh('concurrent')
    const ids = Array.from({ length: 30 }, () => backend.idFormat.generate())
    await Promise.all(ids.map((id) => backend.create(id, record(user))))
    expect((await backend.listUser!(user)).sort()).toEqual([...ids].sort())
    expect(await backend.destroyUser!(user)).toBe(30)
    for (const id of ids) expect(await backend.load(id)).toBeNull()
  })

  it('never deletes a listed session that now belongs to another user', async () => {
    const { backend, user } = fresh('moved')
    const id = backend.idFormat.generate()
    await backend.create(id, record(user))
    const version = (await backend.load(id))!.version
    const otherUser = `${user}-other`
    const change = { set: { _auth_user_id: otherUser }, deleted: [] }
    expect(await backend.save(id, change, { ...record(otherUser), version })).toBe(true)
    expect(await backend.destroyUser!(user)).toBe(0)
    expect((await backend.load(id))?.userId).toBe(otherUser)
    expect(await backend.listUser!(otherUser)).toEqual([id])
  })

  it('drops ended sessions from the index once it grows, keeping the live ones', async () => {
    const { backend, prefix, user } = fresh('prune')
    const live = backend.idFormat.generate()
    await backend.create(live, record(user))
    // Sessions that ended long ago: listed, then gone (the grace for unwritten logins is 5 minutes).
    const old = Array.from({ length: 20 }, () => backend.idFormat.generate())
    const past = Math.floor(Date.now() / 1000) - 3600
    const indexKey = `${prefix}user:${encodeURIComponent(user)}`
    const item = await client.get(indexKey)
    const listed = `${item!.value} ${old.map((id) => `${id}@${past}`).join(' ')}`
    expect(await client.set(indexKey, listed, { exptime: 0, cas: item!.cas })).toBe('stored')
    const next = backend.idFormat.generate()
    await backend.create(next, record(user))
    const after = (await client.get(indexKey))!.value.split(' ')
    expect(
      after
        .slice(2)
        .map((e) => e.split('@')[0])
        .sort(),
    ).toEqual([live, next].sort())
    expect(after[1]).toBe('16')
  })

  it('keys a user id that does not fit a memcached key by its hash', async () => {
    const { backend, user } = fresh('long')
    const long = `${user}-${'é'.repeat(200)}\r\nflush_all`
    const id = backend.idFormat.generate()
    await backend.create(id, record(long))
    expect(await backend.listUser!(long)).toEqual([id])
    expect(await backend.destroyUser!(long)).toBe(1)
  })

  it('declares no user capability with userIndex: false, and checks userIndexTtl', () => {
    const { backend } = fresh('off', { userIndex: false })
    expect(backend.capabilities.destroyUser).toBe(false)
    expect(backend.destroyUser).toBeUndefined()
    expect(() => memcachedBackend({ client, userIndexTtl: -1 })).toThrow(SessionConfigError)
  })
})

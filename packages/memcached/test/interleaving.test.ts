import { createSessionManager, type SessionRecord } from '@sessionbridge/core'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { mergeNewer } from '../src/backend.ts'
import { createMemcachedClient, type MemcachedClientAdapter, memcachedBackend } from '../src/index.ts'
import { testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')
const servers = SERVICE_URLS.memcached.split(',')
const quiet = { warn() {} }
const HOUR = 3_600_000

/**
 * The real client, with a hook the test runs just before the backend's n-th CAS write: the
 * deterministic way to put another writer between a read and its conditional write.
 */
function interposable(client: MemcachedClientAdapter) {
  const hooks: Array<() => Promise<void>> = []
  const wrapped: MemcachedClientAdapter = {
    get: (key, options) => client.get(key, options),
    async set(key, value, options) {
      if (options.cas !== undefined) await hooks.shift()?.()
      return client.set(key, value, options)
    },
    delete: (key, options) => client.delete(key, options),
    touch: (key, exptime) => client.touch(key, exptime),
  }
  /** Runs `fn` before the next CAS write (one hook per write, in order). */
  const before = (fn: () => Promise<void>) => hooks.push(fn)
  return { wrapped, before }
}

describe('mergeNewer (unit)', () => {
  it('keeps a stored value newer than the one read, applies blind and unchanged keys', () => {
    const stored = { count: 5, name: 'b', cart: [1] }
    const merged = mergeNewer(stored, {
      set: { count: 3, name: 'c', cart: [1, 2], blind: true },
      deleted: [],
      read: { count: '2', name: '"b"', cart: '[1]' },
    })
    expect(merged).toEqual({ count: 5, name: 'c', cart: [1, 2], blind: true })
    expect(mergeNewer({ a: 1 }, { set: {}, deleted: ['a'], read: { a: '0' } })).toEqual({ a: 1 })
    expect(mergeNewer({ a: 1 }, { set: {}, deleted: ['a'], read: { a: '1' } })).toEqual({})
    expect(mergeNewer({}, { set: { a: 1 }, deleted: [], read: { a: null } })).toEqual({ a: 1 })
  })
})

describe.skipIf(!up)('memcached never writes an older value, under a chosen interleaving', () => {
  const client = createMemcachedClient({ servers })
  const prefix = testPrefix('interleave')
  afterAll(() => client.close())
  const record = (data: Record<string, unknown>): SessionRecord => ({
    data: { _auth_user_id: '7', ...data },
    expiresAt: Date.now() + HOUR,
    userId: '7',
  })

  it('a request that read count=1 cannot put 2 back over the 3 two later requests stored', async () => {
    const { wrapped, before } = interposable(client)
    const backend = memcachedBackend({ client: wrapped, prefix, logger: quiet })
    const manager = createSessionManager<{ count: number }>({ backend })
    const id = (await backend.create(backend.idFormat.generate(), record({ count: 1 })))!
    const cookie = `sessionid=${id}`
    const increment = async () => {
      const session = await manager.open({ cookie, protocol: 'https' })
      session.set('count', ((await session.get('count')) ?? 0) + 1)
      return session
    }
    const slow = await increment() // read 1, will write 2
    for (let i = 0; i < 2; i++) await (await increment()).commit() // 2, then 3
    // Between the slow request's fallback read and its write, a fourth request stores 4.
    before(async () => {}) // the slow request's first CAS (loaded version): fails, nothing interposed
    before(async () => {
      await (await increment()).commit()
    })
    await slow.commit()
    expect((await backend.load(id))?.data.count).toBe(4)
  })

  it('a retried save still applies the keys nobody else changed', async () => {
    const { wrapped } = interposable(client)
    const backend = memcachedBackend({ client: wrapped, prefix, logger: quiet })
    const manager = createSessionManager<{ count: number; theme: string }>({ backend })
    const id = (await backend.create(backend.idFormat.generate(), record({ count: 1, theme: 'light' })))!
    const cookie = `sessionid=${id}`
    const slow = await manager.open({ cookie, protocol: 'https' })
    slow.set('count', ((await slow.get('count')) ?? 0) + 1)
    slow.set('theme', 'dark')
    const fast = await manager.open({ cookie, protocol: 'https' })
    fast.set('count', ((await fast.get('count')) ?? 0) + 10)
    await fast.commit()
    await slow.commit()
    const stored = (await backend.load(id))?.data
    expect(stored?.count).toBe(11) // the newer value stays
    expect(stored?.theme).toBe('dark') // the slow request's other change lands
  })

  it('update() retries when a writer slips in between its read and its CAS write, and loses nothing', async () => {
    const { wrapped, before } = interposable(client)
    const backend = memcachedBackend({ client: wrapped, prefix, logger: quiet })
    const id = (await backend.create(backend.idFormat.generate(), record({ count: 1 })))!
    const increment = (n: unknown) => (n as number) + 1
    const options = { expiresAt: Date.now() + HOUR, userId: '7', maxAttempts: 3 }
    before(async () => {
      await client.set(prefix + id, `sb1 "7"\n${JSON.stringify({ _auth_user_id: '7', count: 41 })}`, {
        exptime: 3600,
      })
    })
    const result = await backend.update!(id, 'count', increment, options)
    expect(result?.value).toBe(42)
    expect((await backend.load(id))?.data.count).toBe(42)
  })
})

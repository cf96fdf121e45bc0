import { createSessionManager } from '@sessionbridge/core'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, type MemcachedClientAdapter, memcachedBackend } from '../src/index.ts'
import { testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')

/** The shared client, with every command it sends counted by name. */
function countingClient() {
  const client = createMemcachedClient({ servers: SERVICE_URLS.memcached.split(',') })
  const calls: string[] = []
  const counted = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function' || !['get', 'set', 'touch', 'delete'].includes(String(prop)))
        return value
      return (...args: unknown[]) => {
        calls.push(String(prop))
        return value.apply(target, args)
      }
    },
  }) as MemcachedClientAdapter
  return { client, counted, calls }
}

describe.skipIf(!up)('the CAS token from load is used by save', () => {
  const { client, counted, calls } = countingClient()
  const backend = memcachedBackend({ client: counted, prefix: testPrefix('version'), logger: { warn() {} } })
  const manager = createSessionManager<Record<string, number>>({ backend })
  afterAll(() => client.close())

  const newSession = async () => {
    const s = await manager.open({})
    s.set('base', 1)
    return (await s.commit()).setCookie!.split(';')[0]!
  }

  it('a write after a read costs two commands: the load and one conditional set', async () => {
    const cookie = await newSession()
    calls.length = 0
    const s = await manager.open({ cookie })
    s.set('n', ((await s.get('n')) ?? 0) + 1)
    expect((await s.commit()).reason).toBe('save')
    expect(calls).toEqual(['get', 'set'])
    expect(await (await manager.open({ cookie })).get('n')).toBe(1)
  })

  it("a stale token falls back to read-and-merge, keeping the other writer's key", async () => {
    const cookie = await newSession()
    const first = await manager.open({ cookie })
    const second = await manager.open({ cookie })
    await first.load()
    await second.load()
    first.set('a', 1)
    second.set('b', 2)
    await first.commit()
    calls.length = 0
    await second.commit() // its token is stale now
    expect(calls).toEqual(['set', 'get', 'set'])
    const after = await (await manager.open({ cookie })).all()
    expect(after.a).toBe(1)
    expect(after.b).toBe(2)
    expect(after.base).toBe(1)
  })
})

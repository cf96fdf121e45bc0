import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  dropNamespace,
  freshNamespace,
  LAST_ACCESS_MOVES,
  manualClock,
  redisClient,
  SCRIPT_WRITE,
  startServer,
} from './helpers.ts'

type View = { id: string; r: number; w: number; ttl: number; idle: number; d?: Record<string, unknown> }

/**
 * The read budget of issue 22: at most 2 Redis commands per read (counted by a MONITOR
 * connection), with the GET script's semantics: read counter, idle, expiry, kills.
 */
describe.skipIf(!(await serviceAvailable('redis')))('read path: Redis commands per read', () => {
  const namespace = freshNamespace()
  const clock = manualClock()
  let a: Awaited<ReturnType<typeof startServer>>
  let b: Awaited<ReturnType<typeof startServer>>
  let redis: Awaited<ReturnType<typeof redisClient>>
  let monitor: Awaited<ReturnType<typeof redisClient>>
  const seen: string[] = []
  let apps = 0
  const freshApp = () => `rb${++apps}_${namespace.slice(-6)}`

  beforeAll(async () => {
    // Two instances on one Redis, as a deployment behind a load balancer would run them.
    ;[a, b, redis, monitor] = await Promise.all([
      startServer({ namespace, now: clock.now }),
      startServer({ namespace, now: clock.now }),
      redisClient(),
      redisClient(),
    ])
    await monitor.monitor((line: string) => {
      if (line.includes(namespace)) seen.push(line)
    })
  })
  afterAll(async () => {
    await Promise.all([a?.server.close(), b?.server.close()])
    await monitor?.close()
    await dropNamespace(redis, namespace)
    await redis?.close()
  })

  const create = async (server: typeof a, app: string, ttl = 3600) =>
    (
      (await server.call('PUT', `/${app}/create/u?ip=x&ttl=${ttl}`, { json: { k: 1 } })).json as {
        token: string
      }
    ).token
  const get = async (server: typeof a, app: string, token: string, query = '') =>
    (await server.call('GET', `/${app}/get/${token}${query}`)).json as View
  /** The Redis commands `run` caused, in order (EVALSHA counted, as INFO commandstats does). */
  const drain = async () => {
    await redis.ping() // MONITOR lines arrive in order; let them drain
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const commands = async (run: () => Promise<unknown>) => {
    // Lines of what ran before (the create) can still be on their way: drain them, then count.
    await drain()
    seen.length = 0
    await run()
    await redis.ping() // MONITOR lines arrive in order; let them drain
    await new Promise((resolve) => setTimeout(resolve, 100))
    return seen.map((line) => /"([A-Za-z]+)"/.exec(line.split(']')[1] ?? '')?.[1]?.toUpperCase())
  }

  it('20 reads of a session cost at most 2 commands each, and count 20 reads', async () => {
    const app = freshApp()
    const token = await create(a, app)
    const ran = await commands(async () => {
      for (let i = 0; i < 20; i++) await get(a, app, token)
    })
    expect(ran.length).toBeLessThanOrEqual(40)
    expect(ran.filter((name) => name === 'EVALSHA' || name === 'EVAL')).toEqual([])
    const view = await get(a, app, token)
    expect(view.r).toBe(21) // 1 at create, then 20 reads; the view shows r before this read
    expect(view.idle).toBe(0)
  })

  it('parallel reads count every read', async () => {
    const app = freshApp()
    const token = await create(a, app)
    await Promise.all(Array.from({ length: 30 }, () => get(a, app, token)))
    expect(await redis.hGet(`${namespace}:${app}:${token}`, 'r')).toBe('31')
  })

  it('a due last access goes through the script: idle is answered, then la and the indexes move', async () => {
    const app = freshApp()
    const token = await create(a, app)
    clock.advance(5)
    const ran = await commands(async () => expect((await get(a, app, token)).idle).toBe(5))
    expect(ran).toEqual(LAST_ACCESS_MOVES)
    const la = Number(await redis.hGet(`${namespace}:${app}:${token}`, 'la'))
    expect(la).toBe(Math.floor(clock.now() / 1000))
    expect(await commands(async () => expect((await get(a, app, token)).idle).toBe(0))).toEqual([
      'HMGET',
      'HINCRBY',
    ])
  })

  it('a write whose newttl is the stored ttl writes no index ZADDs; another ttl, or a due la, does', async () => {
    // sessionbridge's client sends its ttl with every write (exactExpiry): the same ttl is no change.
    const app = freshApp()
    const token = await create(a, app, 600)
    const set = (query: string) => a.call('POST', `/${app}/set/${token}${query}`, { json: { n: 1 } })
    expect(await commands(() => set('?newttl=600'))).toEqual(SCRIPT_WRITE)
    const key = `${namespace}:${app}:${token}`
    expect(await redis.hGet(key, 'ttl')).toBe('600')
    clock.advance(5)
    // la is due: it moves, and with it the indexes, as on any access
    expect(await commands(() => set('?newttl=600'))).toEqual(LAST_ACCESS_MOVES)
    expect(Number(await redis.hGet(key, 'la'))).toBe(Math.floor(clock.now() / 1000))
    // a new ttl moves la at once
    expect(await commands(() => set('?newttl=900'))).toEqual(LAST_ACCESS_MOVES)
    expect(await redis.hGet(key, 'ttl')).toBe('900')
    const expiry = await redis.zScore(`${namespace}:SESSIONS`, `${app}:${token}:u`)
    expect(expiry).toBe(Math.floor(clock.now() / 1000) + 900)
  })

  it('an idle timeout still ends the session (the fast path never serves a due session)', async () => {
    const app = freshApp()
    const token = await create(a, app, 10)
    expect((await get(a, app, token)).id).toBe('u')
    clock.advance(11)
    expect(await get(a, app, token)).toEqual({})
  })

  it('a session killed by another instance reads as absent, and no hash is left behind', async () => {
    const app = freshApp()
    const token = await create(a, app)
    expect((await get(a, app, token)).id).toBe('u')
    expect((await b.call('DELETE', `/${app}/kill/${token}`)).json).toEqual({ kill: 1 })
    expect(await get(a, app, token)).toEqual({})
    expect(await redis.exists(`${namespace}:${app}:${token}`)).toBe(0)
  })

  it('a ttl set through another instance is read fresh (newttl)', async () => {
    const app = freshApp()
    const token = await create(a, app)
    await get(a, app, token)
    expect((await get(b, app, token, '?newttl=120')).id).toBe('u')
    expect((await get(a, app, token)).ttl).toBe(120)
  })

  it('readCacheSize 0 sends every read through the script', async () => {
    const c = await startServer({ namespace, now: clock.now, readCacheSize: 0 })
    try {
      const app = freshApp()
      const token = await create(c, app)
      expect(await commands(() => get(c, app, token))).toEqual(SCRIPT_WRITE)
    } finally {
      await c.server.close()
    }
  })
})

import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXTENSIONS_PATH } from '../src/index.ts'
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

/** One server per mode; what differs between the default and the strict (original) mode. */
async function serverOf(strict: boolean) {
  const namespace = freshNamespace()
  const clock = manualClock()
  const ctx = await startServer({ namespace, now: clock.now, strict })
  let apps = 0
  const freshApp = () => `m${strict ? 's' : 'd'}${++apps}_${namespace.slice(-6)}`
  const create = async (app: string, d: Record<string, unknown> = { base: 1 }, ttl = 3600) => {
    const answer = await ctx.call('PUT', `/${app}/create/u?ip=x&ttl=${ttl}`, { json: d })
    return (answer.json as { token: string }).token
  }
  const get = async (app: string, token: string, query = '') =>
    (await ctx.call('GET', `/${app}/get/${token}${query}`)).json as View
  return { ...ctx, namespace, clock, freshApp, create, get }
}

describe.skipIf(!(await serviceAvailable('redis')))('server modes and extensions', () => {
  let plain: Awaited<ReturnType<typeof serverOf>>
  let strict: Awaited<ReturnType<typeof serverOf>>
  let redis: Awaited<ReturnType<typeof redisClient>>
  beforeAll(async () => {
    ;[plain, strict, redis] = await Promise.all([serverOf(false), serverOf(true), redisClient()])
  })
  afterAll(async () => {
    await Promise.all([plain?.server.close(), strict?.server.close()])
    for (const ctx of [plain, strict]) if (ctx) await dropNamespace(redis, ctx.namespace)
    await redis?.close()
  })

  it('advertises its extensions; strict mode answers that route with the HTML 404', async () => {
    const listed = await plain.call('GET', EXTENSIONS_PATH)
    expect(listed.status).toBe(200)
    expect(listed.json).toEqual({
      server: '@sessionbridge/rest-sessions-server',
      extensions: ['merge', 'newttl', 'update', 'guard'],
    })
    const hidden = await strict.call('GET', EXTENSIONS_PATH)
    expect(hidden.status).toBe(404)
    expect(hidden.type).toMatch(/^text\/html/)
    expect(hidden.text).toContain(`Cannot GET ${EXTENSIONS_PATH}`)
  })

  it('validation errors: 400 by default, 500 in strict mode, same body', async () => {
    const body = { name: 'invalidFormat', message: 'Invalid token format' }
    const a = await plain.call('GET', '/someapp/get/short')
    const b = await strict.call('GET', '/someapp/get/short')
    expect([a.status, b.status]).toEqual([400, 500])
    expect(a.json).toEqual(body)
    expect(b.json).toEqual(body)
  })

  it('set merges concurrent writers of different keys atomically (default mode)', async () => {
    const app = plain.freshApp()
    const token = await plain.create(app)
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        plain.call('POST', `/${app}/set/${token}`, { json: { [`k${i}`]: i } }),
      ),
    )
    const got = await plain.get(app, token)
    expect(got.w).toBe(31)
    expect(Object.keys(got.d!)).toHaveLength(31)
  })

  it('strict mode: parallel writers of different keys lose keys, as on the original', async () => {
    // The lost-update window of a read-merge-write `set`, shown rather than hidden: 25 parallel
    // writers, up to 5 trials, at least one trial must lose a key (every write still answers 200).
    let lost = 0
    for (let trial = 0; trial < 5 && lost === 0; trial++) {
      const app = strict.freshApp()
      const token = await strict.create(app)
      const answers = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          strict.call('POST', `/${app}/set/${token}`, { json: { [`k${i}`]: i } }),
        ),
      )
      expect(answers.every((a) => a.status === 200)).toBe(true)
      lost = 25 - Object.keys((await strict.get(app, token)).d!).filter((k) => k.startsWith('k')).length
    }
    expect(lost).toBeGreaterThan(0)
  })

  it('newttl sets the ttl and the last access at once; strict mode ignores it', async () => {
    for (const ctx of [plain, strict]) {
      const app = ctx.freshApp()
      const token = await ctx.create(app, { a: 1 }, 10)
      ctx.clock.advance(1)
      const read = await ctx.get(app, token, '?newttl=3600')
      expect(read.ttl).toBe(ctx === plain ? 3600 : 10)
      ctx.clock.advance(100)
      const answer = await ctx.call('POST', `/${app}/set/${token}?newttl=20`, { json: { a: 2 } })
      if (ctx === strict) {
        expect(answer.json).toEqual({}) // expired at its fixed 10 s ttl
        continue
      }
      expect(answer.json).toMatchObject({ ttl: 20, idle: 0 })
      ctx.clock.advance(21)
      expect(await ctx.get(app, token)).toEqual({})
      expect((await ctx.call('GET', `/${app}/get/${token}?newttl=5`)).status).toBe(400)
    }
  })

  it('update: compare-and-set of one key against its stored JSON text', async () => {
    const app = plain.freshApp()
    const token = await plain.create(app, { n: 1, s: 'é' })
    const update = (json: unknown, query = '') =>
      plain.call('POST', `/${app}/update/${token}${query}`, { json })
    const ok = await update({ key: 'n', expect: '1', value: 2 })
    expect(ok.json).toMatchObject({ updated: true, session: { id: 'u', w: 2, d: { n: 2, s: 'é' } } })
    // a stale expectation writes nothing and answers the current text
    expect((await update({ key: 'n', expect: '1', value: 3 })).json).toEqual({ updated: false, current: '2' })
    expect((await update({ key: 's', expect: '"é"', value: 'x' })).json).toMatchObject({ updated: true })
    // absent keys: expect null; delete with value null
    expect((await update({ key: 'new', expect: '0', value: 1 })).json).toEqual({
      updated: false,
      current: null,
    })
    expect((await update({ key: 'new', expect: null, value: 1 })).json).toMatchObject({ updated: true })
    expect((await update({ key: 'new', expect: '1', value: null }, '?newttl=60')).json).toMatchObject({
      updated: true,
      session: { ttl: 60, d: { n: 2, s: 'x' } },
    })
    expect((await plain.get(app, token)).w).toBe(5)
    // unknown session, bad bodies, and the route is absent in strict mode
    const unknown = await plain.call('POST', `/${app}/update/${'Q'.repeat(64)}`, {
      json: { key: 'n', value: 1 },
    })
    expect(unknown.json).toEqual({})
    for (const bad of [{}, { key: 1 }, { key: 'n', expect: 1 }, { key: 'n', value: { o: 1 } }, [1]]) {
      expect((await update(bad)).status).toBe(400)
    }
    const absent = await strict.call('POST', `/${app}/update/${token}`, { json: { key: 'n', value: 1 } })
    expect(absent.status).toBe(404)
  })

  it('update: parallel increments of one key through compare-and-set lose nothing', async () => {
    const app = plain.freshApp()
    const token = await plain.create(app, { n: 0 })
    const increment = async () => {
      let expect = JSON.stringify((await plain.get(app, token)).d?.n)
      for (;;) {
        const answer = (
          await plain.call('POST', `/${app}/update/${token}`, {
            json: { key: 'n', expect, value: Number(JSON.parse(expect)) + 1 },
          })
        ).json as { updated: boolean; current: string }
        if (answer.updated) return
        expect = answer.current
      }
    }
    await Promise.all(Array.from({ length: 20 }, increment))
    expect((await plain.get(app, token)).d?.n).toBe(20)
  })

  it('a read is HMGET + HINCRBY, a write EVALSHA + HMGET + HSET; index scores move with the last access', async () => {
    const app = plain.freshApp()
    const token = await plain.create(app, { a: 1 })
    // Warm-up: the scripts are loaded (a first EVALSHA may meet NOSCRIPT and fall back to EVAL).
    await plain.get(app, token)
    await plain.call('POST', `/${app}/set/${token}`, { json: { b: 1 } })
    const seen: string[] = []
    const monitor = await redisClient()
    await monitor.monitor((line: string) => {
      if (line.includes(plain.namespace) || line.includes(token)) seen.push(line)
    })
    const count = async (run: () => Promise<unknown>) => {
      seen.length = 0
      await run()
      await redis.ping() // MONITOR lines arrive in order; let them drain
      await new Promise((resolve) => setTimeout(resolve, 100))
      return seen.map((line) => /"([A-Za-z]+)"/.exec(line.split(']')[1] ?? '')?.[1]?.toUpperCase())
    }
    expect(await count(() => plain.get(app, token))).toEqual(['HMGET', 'HINCRBY'])
    expect(await count(() => plain.call('POST', `/${app}/set/${token}`, { json: { b: 2 } }))).toEqual(
      SCRIPT_WRITE,
    )
    plain.clock.advance(5) // the last access moves: the three index scores follow
    expect(await count(() => plain.get(app, token))).toEqual(LAST_ACCESS_MOVES)
    expect(await count(() => plain.get(app, token))).toEqual(['HMGET', 'HINCRBY'])
    await monitor.close()
  })
})

// The increment race of issue 16 on a peer, end to end: @fastify/session on connect-redis, the
// stack the issue measured. APPS Fastify instances share one Redis store (as APPS app processes
// would); WORKERS concurrent clients send `GET /incr` with one session cookie, round robin over the
// instances, until INCREMENTS requests were answered. Lost updates = answered - stored count.
// same-key.ts prints it beside sessionbridge's rows.
import type { AddressInfo } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import { RedisStore } from 'connect-redis'
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { createClient } from 'redis'

// @fastify/session types `FastifyRequest.session` globally, which clashes with @sessionbridge/fastify
// in this program: load it through a specifier TypeScript does not follow, typed as the little used.
const FASTIFY_SESSION: string = '@fastify/session'
type PeerPlugin = FastifyPluginAsync<{ secret: string; cookie: { secure: boolean }; store: object }>
type PeerSession = { get(key: string): unknown; set(key: string, value: unknown): void }
const SECRET = 'a-bench-secret-of-at-least-thirty-two-characters'

/** What one race measured. */
export interface PeerRace {
  lost: number
  perSecond: number
  /** Store calls (get, set, touch, destroy) per answered increment, counted. */
  roundTrips: number
}

/** The store, with each round-trip method counted into `counter.n`. */
export function countedStore(store: RedisStore, counter: { n: number }): RedisStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function' || !['get', 'set', 'touch', 'destroy'].includes(String(key)))
        return value
      return (...args: unknown[]) => {
        counter.n++
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}

async function peerApp(store: object): Promise<{ app: FastifyInstance; url: string }> {
  const fastifySession = (await import(FASTIFY_SESSION)).default as PeerPlugin
  const app = Fastify()
  await app.register(fastifyCookie)
  await app.register(fastifySession, { secret: SECRET, cookie: { secure: false }, store })
  const sessionOf = (request: unknown) => (request as { session: PeerSession }).session
  app.get('/seed', async (request) => {
    sessionOf(request).set('count', 0)
    return 'seeded'
  })
  app.get('/incr', async (request) => {
    const session = sessionOf(request)
    const count = ((session.get('count') as number | undefined) ?? 0) + 1
    session.set('count', count)
    return String(count)
  })
  app.get('/read', async (request) => String(sessionOf(request).get('count') ?? 0))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

/** Runs the race on `apps` instances over the Redis at `redisUrl`, keys under `prefix`. */
export async function fastifySessionRace(options: {
  redisUrl: string
  prefix: string
  increments: number
  workers: number
  apps: number
}): Promise<PeerRace> {
  const client = createClient({ url: options.redisUrl })
  client.on('error', () => {})
  await client.connect()
  const calls = { n: 0 }
  const store = countedStore(new RedisStore({ client, prefix: options.prefix }), calls)
  const running = await Promise.all(Array.from({ length: options.apps }, () => peerApp(store)))
  try {
    const seeded = await fetch(`${running[0]!.url}/seed`)
    const cookie = seeded.headers.getSetCookie()[0]?.split(';')[0]
    if (!cookie) throw new Error('@fastify/session set no cookie')
    let started = 0
    const before = calls.n
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: options.workers }, async () => {
        while (started < options.increments) {
          const app = running[started++ % running.length]!
          const reply = await fetch(`${app.url}/incr`, { headers: { cookie } })
          if (reply.status !== 200) throw new Error(`/incr answered ${reply.status}`)
          await reply.arrayBuffer()
        }
      }),
    )
    const seconds = (performance.now() - t0) / 1000
    const roundTrips = (calls.n - before) / options.increments
    const stored = Number(await (await fetch(`${running[0]!.url}/read`, { headers: { cookie } })).text())
    return {
      lost: options.increments - stored,
      perSecond: Math.round(options.increments / seconds),
      roundTrips,
    }
  } finally {
    await Promise.all(running.map(({ app }) => app.close()))
    for (const key of await client.keys(`${options.prefix}*`)) await client.del(key)
    client.destroy()
  }
}

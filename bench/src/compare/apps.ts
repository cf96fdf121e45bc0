// One server per (framework, layer), with the routes every scenario uses: `GET /` never touches
// the session; `GET /seed` stores `count = 0` and answers with the cookie; `GET /read` reads
// `count`; `GET /incr` increments it. Peers run with their documented defaults, except the
// cookie's `secure` flag (the benchmark speaks plain HTTP).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import { serve } from '@hono/node-server'
import type { Session, SessionManagerOptions } from '@sessionbridge/core'
import { sessionPlugin } from '@sessionbridge/fastify'
import { sessionMiddleware as honoSessions } from '@sessionbridge/hono'
import { sessionMiddleware as koaSessions } from '@sessionbridge/koa'
import { RedisStore } from 'connect-redis'
import express from 'express'
import expressSession from 'express-session'
import Fastify, { type FastifyPluginAsync, type FastifyRequest } from 'fastify'
import { Hono, type Context as HonoContext } from 'hono'
import {
  CookieStore,
  MemoryStore as HonoMemoryStore,
  sessionMiddleware as honoPeerSessions,
} from 'hono-sessions'
import Koa, { type Context } from 'koa'
import koaSession from 'koa-session'
import { createClient } from 'redis'
import { type CallCounter, countCalls } from './counting.ts'
import type { Framework, Layer, RunningServer } from './layers.ts'
import { asCount, SECRET } from './layers.ts'
import { openLimit } from './limits.ts'
import { honoRedisStore, koaMemoryStore, koaRedisStore } from './peer-stores.ts'
import { benchEnv, openStore, type StoreName } from './stores.ts'

// @fastify/session declares its own `FastifyRequest.session`, which clashes with ours when both are
// in one program. Load it through a specifier TypeScript does not follow, typed as the little we use.
const FASTIFY_SESSION: string = '@fastify/session'
type FastifySessionPeer = FastifyPluginAsync<{
  secret: string
  cookie: { secure: boolean }
  store: object
}> & {
  MemoryStore: new () => object
}
const fastifySession = (await import(FASTIFY_SESSION)).default as FastifySessionPeer

/** Store methods that are round trips; helpers such as `generate` or `on` are not counted. */
const storeOps = new Set([
  'get',
  'set',
  'touch',
  'destroy',
  'getSessionById',
  'createSession',
  'persistSessionData',
  'deleteSession',
])
const storeWeight = (method: string) => (storeOps.has(method) ? 1 : 0)

async function peerRedis(): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ url: benchEnv.redisUrl() })
  await client.connect()
  return client
}

/** What the handlers need from a session, whichever library provides it. */
interface Handlers {
  read(request: unknown): Promise<number>
  /** Sessions write on their own after the handler; a limit row writes here (a promise). */
  write(request: unknown, count: number): void | Promise<void>
  /** Limit rows: creates a record; answers the Set-Cookie header naming it. */
  seed?(): Promise<string>
}

const LIMIT_COOKIE = 'sblimit='

/** The limit rows' key: the `sblimit` cookie's value, read with no parser and no signature. */
function limitKey(header: string | undefined): string | null {
  const at = header ? header.indexOf(LIMIT_COOKIE) : -1
  if (at < 0 || !header) return null
  const end = header.indexOf(';', at)
  return header.slice(at + LIMIT_COOKIE.length, end < 0 ? undefined : end)
}

/** A limit row's handlers: bare + the raw round trips on `store` (limits.ts). */
async function limitHandlers(
  store: StoreName,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
  cookieOf: (request: unknown) => string | undefined,
): Promise<Handlers> {
  const limit = await openLimit(store, counter)
  cleanups.push(limit.close)
  return {
    read: async (request) => {
      const key = limitKey(cookieOf(request))
      return key === null ? 0 : ((await limit.read(key)) ?? 0)
    },
    write: (request, count) => {
      const key = limitKey(cookieOf(request))
      return key === null ? undefined : limit.write(key, count)
    },
    seed: async () => `${LIMIT_COOKIE}${await limit.seed()}; Path=/; HttpOnly`,
  }
}

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  )
}

async function startFastify(
  layer: Layer,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  const app = Fastify({ logger: false })
  cleanups.push(() => app.close())
  let handlers: Handlers | null = null
  if (layer.kind === 'middleware') {
    app.addHook('onRequest', (_request, _reply, done) => done())
    app.addHook('onSend', (_request, _reply, payload, done) => done(null, payload))
  } else if (layer.kind === 'sessionbridge') {
    const store = await openStore(layer.store, counter)
    cleanups.push(store.close)
    await app.register(sessionPlugin, { backend: store.backend, secrets: [SECRET] })
    const sessionOf = (request: unknown) => (request as FastifyRequest).session as unknown as Session
    handlers = {
      read: async (request) => asCount(await sessionOf(request).get('count')),
      write: (request, count) => sessionOf(request).set('count', count),
    }
  } else if (layer.kind === 'limit') {
    handlers = await limitHandlers(
      layer.store,
      counter,
      cleanups,
      (r) => (r as FastifyRequest).headers.cookie,
    )
  } else if (layer.kind === 'peer') {
    const client = layer.store === 'redis' ? await peerRedis() : null
    if (client) cleanups.push(async () => void client.destroy())
    const store = client
      ? new RedisStore({ client, prefix: 'sbbench:fastify:' })
      : countCalls(new fastifySession.MemoryStore(), counter, storeWeight)
    await app.register(fastifyCookie)
    await app.register(fastifySession, { secret: SECRET, cookie: { secure: false }, store })
    type PeerSession = { get(key: string): unknown; set(key: string, value: unknown): void }
    const sessionOf = (request: unknown) => (request as { session: PeerSession }).session
    handlers = {
      read: async (request) => asCount(sessionOf(request).get('count')),
      write: (request, count) => sessionOf(request).set('count', count),
    }
  }
  const h = handlers
  app.get('/', async () => 'ok')
  app.get('/seed', async (request, reply) => {
    if (h?.seed) reply.header('set-cookie', await h.seed())
    else h?.write(request, 0)
    return 'seeded'
  })
  app.get('/read', async (request) => String(h ? await h.read(request) : 0))
  app.get('/incr', async (request) => {
    const count = (h ? await h.read(request) : 0) + 1
    const written = h?.write(request, count)
    if (written) await written
    return String(count)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

async function startKoa(
  layer: Layer,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  const app = new Koa()
  app.keys = [SECRET]
  let handlers: Handlers | null = null
  if (layer.kind === 'middleware') {
    app.use(async (_ctx, next) => {
      await next()
    })
  } else if (layer.kind === 'sessionbridge') {
    const store = await openStore(layer.store, counter)
    cleanups.push(store.close)
    app.use(koaSessions({ backend: store.backend, secrets: [SECRET] }))
    const sessionOf = (ctx: unknown) => (ctx as Context).session as unknown as Session
    handlers = {
      read: async (ctx) => asCount(await sessionOf(ctx).get('count')),
      write: (ctx, count) => sessionOf(ctx).set('count', count),
    }
  } else if (layer.kind === 'limit') {
    handlers = await limitHandlers(layer.store, counter, cleanups, (ctx) => (ctx as Context).headers.cookie)
  } else if (layer.kind === 'peer') {
    if (layer.store === 'cookie') app.use(koaSession({}, app))
    else {
      const client = layer.store === 'redis' ? await peerRedis() : null
      if (client) cleanups.push(async () => void client.destroy())
      const store = client ? koaRedisStore(client) : countCalls(koaMemoryStore(), counter, storeWeight)
      app.use(koaSession({ store }, app))
    }
    const sessionOf = (ctx: unknown) => (ctx as { session: Record<string, unknown> }).session
    handlers = {
      read: async (ctx) => asCount(sessionOf(ctx).count),
      write: (ctx, count) => {
        sessionOf(ctx).count = count
      },
    }
  }
  const h = handlers
  app.use(async (ctx) => {
    if (ctx.path === '/') ctx.body = 'ok'
    else if (ctx.path === '/seed') {
      if (h?.seed) ctx.set('Set-Cookie', await h.seed())
      else h?.write(ctx, 0)
      ctx.body = 'seeded'
    } else if (ctx.path === '/read') ctx.body = String(h ? await h.read(ctx) : 0)
    else if (ctx.path === '/incr') {
      const count = (h ? await h.read(ctx) : 0) + 1
      const written = h?.write(ctx, count)
      if (written) await written
      ctx.body = String(count)
    }
  })
  const server = createServer(app.callback())
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return listen(server)
}

async function startHono(
  layer: Layer,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  // Variables are typed loosely on purpose: two session libraries share the one app shape.
  const app = new Hono<{ Variables: { session: unknown } }>()
  let handlers: Handlers | null = null
  if (layer.kind === 'middleware') {
    app.use(async (_c, next) => {
      await next()
    })
  } else if (layer.kind === 'sessionbridge') {
    const store = await openStore(layer.store, counter)
    cleanups.push(store.close)
    app.use(honoSessions({ backend: store.backend, secrets: [SECRET] }))
    const sessionOf = (c: unknown) => (c as HonoContext).get('session') as Session
    handlers = {
      read: async (c) => asCount(await sessionOf(c).get('count')),
      write: (c, count) => sessionOf(c).set('count', count),
    }
  } else if (layer.kind === 'limit') {
    handlers = await limitHandlers(layer.store, counter, cleanups, (c) =>
      (c as HonoContext).req.header('cookie'),
    )
  } else if (layer.kind === 'peer') {
    const client = layer.store === 'redis' ? await peerRedis() : null
    if (client) cleanups.push(async () => void client.destroy())
    const store =
      layer.store === 'cookie'
        ? new CookieStore()
        : client
          ? honoRedisStore(client)
          : countCalls(new HonoMemoryStore(), counter, storeWeight)
    app.use(honoPeerSessions({ store, encryptionKey: SECRET, expireAfterSeconds: 3600 }))
    type PeerSession = { get(key: string): unknown; set(key: string, value: unknown): void }
    const sessionOf = (c: unknown) => (c as HonoContext).get('session') as PeerSession
    handlers = {
      read: async (c) => asCount(sessionOf(c).get('count')),
      write: (c, count) => sessionOf(c).set('count', count),
    }
  }
  const h = handlers
  app.get('/', (c) => c.text('ok'))
  app.get('/seed', async (c) => {
    if (h?.seed) c.header('Set-Cookie', await h.seed())
    else h?.write(c, 0)
    return c.text('seeded')
  })
  app.get('/read', async (c) => c.text(String(h ? await h.read(c) : 0)))
  app.get('/incr', async (c) => {
    const count = (h ? await h.read(c) : 0) + 1
    const written = h?.write(c, count)
    if (written) await written
    return c.text(String(count))
  })
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port))
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())))
  })
}

/**
 * `@sessionbridge/express` types `req.session` globally, as `@types/express-session` (the peer in the
 * same program) does differently: a non-literal specifier keeps its types out of this program.
 */
async function expressSessions() {
  const specifier: string = '@sessionbridge/express'
  const loaded = (await import(specifier)) as {
    sessionMiddleware(options: SessionManagerOptions): express.RequestHandler
  }
  return loaded.sessionMiddleware
}

async function startExpress(
  layer: Layer,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  const app = express()
  let handlers: Handlers | null = null
  if (layer.kind === 'middleware') {
    app.use((_req, _res, next) => next())
  } else if (layer.kind === 'peer') {
    const client = layer.store === 'redis' ? await peerRedis() : null
    if (client) cleanups.push(async () => void client.destroy())
    const store = client
      ? new RedisStore({ client, prefix: 'sbbench:express:' })
      : countCalls(new expressSession.MemoryStore(), counter, storeWeight)
    // resave: false as the README asks (and what connect-redis recommends); the rest are defaults.
    app.use(expressSession({ secret: SECRET, store, resave: false, saveUninitialized: true }))
    type PeerSession = Record<string, unknown>
    const sessionOf = (req: unknown) => (req as { session: PeerSession }).session
    handlers = {
      read: async (req) => asCount(sessionOf(req).count),
      write: (req, count) => {
        sessionOf(req).count = count
      },
    }
  } else if (layer.kind === 'limit') {
    handlers = await limitHandlers(
      layer.store,
      counter,
      cleanups,
      (req) => (req as express.Request).headers.cookie,
    )
  } else if (layer.kind === 'sessionbridge') {
    const store = await openStore(layer.store, counter)
    cleanups.push(store.close)
    app.use((await expressSessions())({ backend: store.backend, secrets: [SECRET] }))
    const sessionOf = (req: unknown) => (req as { session: Session }).session
    handlers = {
      read: async (req) => asCount(await sessionOf(req).get('count')),
      write: (req, count) => sessionOf(req).set('count', count),
    }
  }
  const h = handlers
  app.get('/', (_req, res) => void res.send('ok'))
  app.get('/seed', async (req, res) => {
    if (h?.seed) res.setHeader('Set-Cookie', await h.seed())
    else h?.write(req, 0)
    res.send('seeded')
  })
  app.get('/read', async (req, res) => void res.send(String(h ? await h.read(req) : 0)))
  app.get('/incr', async (req, res) => {
    const count = (h ? await h.read(req) : 0) + 1
    const written = h?.write(req, count)
    if (written) await written
    res.send(String(count))
  })
  const server = createServer(app)
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return listen(server)
}

const starters = { fastify: startFastify, koa: startKoa, hono: startHono, express: startExpress }

/** Starts one server on a free loopback port; `close()` stops it and what it opened. */
export async function startApp(
  framework: Framework,
  layer: Layer,
  counter: CallCounter,
): Promise<RunningServer> {
  const cleanups: (() => Promise<void>)[] = []
  const port = await starters[framework](layer, counter, cleanups)
  return {
    port,
    close: async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
    },
  }
}

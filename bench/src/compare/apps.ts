// One server per framework holding one layer (the comparison) or several, each under its own path
// prefix with its middleware scoped to it (the floor), with the routes every scenario uses:
// `GET <prefix>/` never touches the session; `GET <prefix>/seed` stores `count = 0` and answers
// with the cookie; `GET <prefix>/read` reads `count`; `GET <prefix>/incr` increments it. Peers run
// with their documented defaults, except the cookie's `secure` flag (the benchmark speaks plain HTTP).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import { serve } from '@hono/node-server'
import type { Session, SessionManagerOptions } from '@sessionbridge/core'
import { sessionPlugin } from '@sessionbridge/fastify'
import {
  type HonoSessionOptions,
  sessionOf as honoSessionOf,
  sessionMiddleware as honoSessions,
  sessionFetch,
} from '@sessionbridge/hono'
import { sessionMiddleware as koaSessions } from '@sessionbridge/koa'
import { RedisStore } from 'connect-redis'
import express from 'express'
import expressSession from 'express-session'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify'
import { Hono, type Context as HonoContext, type MiddlewareHandler } from 'hono'
import {
  CookieStore,
  MemoryStore as HonoMemoryStore,
  sessionMiddleware as honoPeerSessions,
} from 'hono-sessions'
import Koa, { type Context } from 'koa'
import koaSession from 'koa-session'
import { createClient } from 'redis'
import { type CallCounter, countCalls } from './counting.ts'
import type { Framework, Layer, Mount, RunningServer } from './layers.ts'
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

/**
 * The cookie header read as `@sessionbridge/hono` reads it: Node's parsed headers on
 * `@hono/node-server` (`c.env.incoming`), without the Web `Headers` that `c.req.header()` builds
 * (which put the limit rows above ours: a memory read 92.0k against 86.9k instructions).
 */
const honoCookie = (c: HonoContext): string | undefined =>
  (c.env as { incoming?: { headers: { cookie?: string } } } | undefined)?.incoming?.headers.cookie ??
  c.req.header('cookie')

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

/**
 * Idle keep-alive sockets are kept 72 s, Fastify's default (Node's own is 5 s): under callgrind
 * (about 50 times slower) a socket idle through a counting pause outlived 5 s, and the client's
 * next request on it met a reset (Koa's PostgreSQL increment, stop 51).
 */
const KEEP_ALIVE_MS = 72_000

function listen(server: ReturnType<typeof createServer>): Promise<number> {
  server.keepAliveTimeout = KEEP_ALIVE_MS
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  )
}

async function startFastify(
  mounts: readonly Mount[],
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  const app = Fastify({ logger: false })
  cleanups.push(() => app.close())
  for (const { prefix, layer } of mounts) {
    // A prefixed layer lives in a scope of its own: its hooks run for its routes only.
    if (prefix === '') await mountFastify(app, layer, counter, cleanups)
    else await app.register((scope) => mountFastify(scope, layer, counter, cleanups), { prefix })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as AddressInfo).port
}

async function mountFastify(
  app: FastifyInstance,
  layer: Layer,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<void> {
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
}

async function startKoa(
  mounts: readonly Mount[],
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  const app = new Koa()
  app.keys = [SECRET]
  const stacks: { prefix: string; run: Koa.Middleware }[] = []
  for (const { prefix, layer } of mounts) {
    const stack = await mountKoa(app, layer, prefix, counter, cleanups)
    // One layer: its middleware straight on the app, as an app would have them.
    if (mounts.length === 1) for (const middleware of stack) app.use(middleware)
    else stacks.push({ prefix, run: chain(stack) })
  }
  if (stacks.length > 0) {
    // Koa has no scopes: requests go to the stack whose prefix their path starts with.
    const scoped = stacks.filter((stack) => stack.prefix !== '')
    const root = stacks.find((stack) => stack.prefix === '')
    app.use((ctx, next) => {
      const stack = scoped.find((s) => ctx.path.startsWith(`${s.prefix}/`)) ?? root
      return stack ? stack.run(ctx, next) : next()
    })
  }
  const server = createServer(app.callback())
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return listen(server)
}

/** One middleware running `stack` in order, as `app.use` would. */
function chain(stack: Koa.Middleware[]): Koa.Middleware {
  return stack.reduceRight<Koa.Middleware>(
    (after, middleware) => (ctx, next) => middleware(ctx, () => after(ctx, next)),
    (_ctx, next) => next(),
  )
}

/** The layer's middleware and the routes under `prefix`, in order. */
async function mountKoa(
  app: Koa,
  layer: Layer,
  prefix: string,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<Koa.Middleware[]> {
  const stack: Koa.Middleware[] = []
  let handlers: Handlers | null = null
  if (layer.kind === 'middleware') {
    stack.push(async (_ctx, next) => {
      await next()
    })
  } else if (layer.kind === 'sessionbridge') {
    const store = await openStore(layer.store, counter)
    cleanups.push(store.close)
    // @sessionbridge/koa is typed against another @types/koa release than this package: same shape.
    stack.push(koaSessions({ backend: store.backend, secrets: [SECRET] }) as unknown as Koa.Middleware)
    const sessionOf = (ctx: unknown) => (ctx as Context).session as unknown as Session
    handlers = {
      read: async (ctx) => asCount(await sessionOf(ctx).get('count')),
      write: (ctx, count) => sessionOf(ctx).set('count', count),
    }
  } else if (layer.kind === 'limit') {
    handlers = await limitHandlers(layer.store, counter, cleanups, (ctx) => (ctx as Context).headers.cookie)
  } else if (layer.kind === 'peer') {
    if (layer.store === 'cookie') stack.push(koaSession({}, app))
    else {
      const client = layer.store === 'redis' ? await peerRedis() : null
      if (client) cleanups.push(async () => void client.destroy())
      const store = client ? koaRedisStore(client) : countCalls(koaMemoryStore(), counter, storeWeight)
      stack.push(koaSession({ store }, app))
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
  const [root, seed, read, incr] = ['/', '/seed', '/read', '/incr'].map((path) => prefix + path)
  stack.push(async (ctx) => {
    if (ctx.path === root) ctx.body = 'ok'
    else if (ctx.path === seed) {
      if (h?.seed) ctx.set('Set-Cookie', await h.seed())
      else h?.write(ctx, 0)
      ctx.body = 'seeded'
    } else if (ctx.path === read) ctx.body = String(h ? await h.read(ctx) : 0)
    else if (ctx.path === incr) {
      const count = (h ? await h.read(ctx) : 0) + 1
      const written = h?.write(ctx, count)
      if (written) await written
      ctx.body = String(count)
    }
  })
  return stack
}

// Variables are typed loosely on purpose: two session libraries share the one app shape.
type HonoApp = Hono<{ Variables: { session: unknown } }>

async function startHono(
  mounts: readonly Mount[],
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  const app: HonoApp = new Hono()
  let fetch = app.fetch
  for (const { prefix, layer } of mounts) {
    const around = await mountHono(app, layer, prefix, counter, cleanups)
    if (around && mounts.length > 1) throw new Error('bench: a sessionFetch layer needs a server of its own')
    if (around) fetch = sessionFetch(app, around)
  }
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port))
    if ('keepAliveTimeout' in server) server.keepAliveTimeout = KEEP_ALIVE_MS
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())))
  })
}

/**
 * The layer's middleware, for the paths under `prefix` only, and its routes there. A `sessionFetch`
 * layer has no middleware: its options come back, for the server to wrap the app's `fetch`.
 */
async function mountHono(
  app: HonoApp,
  layer: Layer,
  prefix: string,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<HonoSessionOptions | null> {
  let around: HonoSessionOptions | null = null
  const use = (middleware: MiddlewareHandler) =>
    prefix ? app.use(`${prefix}/*`, middleware) : app.use(middleware)
  let handlers: Handlers | null = null
  if (layer.kind === 'middleware') {
    use(async (_c, next) => {
      await next()
    })
  } else if (layer.kind === 'sessionbridge') {
    const store = await openStore(layer.store, counter)
    cleanups.push(store.close)
    const options = { backend: store.backend, secrets: [SECRET] }
    if (layer.integration === 'fetch') around = options
    else use(honoSessions(options))
    const sessionOf =
      layer.integration === 'fetch'
        ? (c: unknown) => honoSessionOf(c as HonoContext).session
        : (c: unknown) => (c as HonoContext).get('session') as Session
    handlers = {
      read: async (c) => asCount(await sessionOf(c).get('count')),
      write: (c, count) => sessionOf(c).set('count', count),
    }
  } else if (layer.kind === 'limit') {
    handlers = await limitHandlers(layer.store, counter, cleanups, (c) => honoCookie(c as HonoContext))
  } else if (layer.kind === 'peer') {
    const client = layer.store === 'redis' ? await peerRedis() : null
    if (client) cleanups.push(async () => void client.destroy())
    const store =
      layer.store === 'cookie'
        ? new CookieStore()
        : client
          ? honoRedisStore(client)
          : countCalls(new HonoMemoryStore(), counter, storeWeight)
    use(honoPeerSessions({ store, encryptionKey: SECRET, expireAfterSeconds: 3600 }))
    type PeerSession = { get(key: string): unknown; set(key: string, value: unknown): void }
    const sessionOf = (c: unknown) => (c as HonoContext).get('session') as PeerSession
    handlers = {
      read: async (c) => asCount(sessionOf(c).get('count')),
      write: (c, count) => sessionOf(c).set('count', count),
    }
  }
  const h = handlers
  app.get(`${prefix}/`, (c) => c.text('ok'))
  app.get(`${prefix}/seed`, async (c) => {
    if (h?.seed) c.header('Set-Cookie', await h.seed())
    else h?.write(c, 0)
    return c.text('seeded')
  })
  app.get(`${prefix}/read`, async (c) => c.text(String(h ? await h.read(c) : 0)))
  app.get(`${prefix}/incr`, async (c) => {
    const count = (h ? await h.read(c) : 0) + 1
    const written = h?.write(c, count)
    if (written) await written
    return c.text(String(count))
  })
  return around
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
  mounts: readonly Mount[],
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  const app = express()
  for (const { prefix, layer } of mounts) await mountExpress(app, layer, prefix, counter, cleanups)
  const server = createServer(app)
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return listen(server)
}

/** The layer's middleware, for the paths under `prefix` only, and its routes there. */
async function mountExpress(
  app: express.Express,
  layer: Layer,
  prefix: string,
  counter: CallCounter,
  cleanups: (() => Promise<void>)[],
): Promise<void> {
  const use = (middleware: express.RequestHandler) =>
    prefix ? app.use(prefix, middleware) : app.use(middleware)
  let handlers: Handlers | null = null
  if (layer.kind === 'middleware') {
    use((_req, _res, next) => next())
  } else if (layer.kind === 'peer') {
    const client = layer.store === 'redis' ? await peerRedis() : null
    if (client) cleanups.push(async () => void client.destroy())
    const store = client
      ? new RedisStore({ client, prefix: 'sbbench:express:' })
      : countCalls(new expressSession.MemoryStore(), counter, storeWeight)
    // resave: false as the README asks (and what connect-redis recommends); the rest are defaults.
    use(expressSession({ secret: SECRET, store, resave: false, saveUninitialized: true }))
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
    use((await expressSessions())({ backend: store.backend, secrets: [SECRET] }))
    const sessionOf = (req: unknown) => (req as { session: Session }).session
    handlers = {
      read: async (req) => asCount(await sessionOf(req).get('count')),
      write: (req, count) => sessionOf(req).set('count', count),
    }
  }
  const h = handlers
  app.get(`${prefix}/`, (_req, res) => void res.send('ok'))
  app.get(`${prefix}/seed`, async (req, res) => {
    if (h?.seed) res.setHeader('Set-Cookie', await h.seed())
    else h?.write(req, 0)
    res.send('seeded')
  })
  app.get(`${prefix}/read`, async (req, res) => void res.send(String(h ? await h.read(req) : 0)))
  app.get(`${prefix}/incr`, async (req, res) => {
    const count = (h ? await h.read(req) : 0) + 1
    const written = h?.write(req, count)
    if (written) await written
    res.send(String(count))
  })
}

const starters = { fastify: startFastify, koa: startKoa, hono: startHono, express: startExpress }

/**
 * Starts one server on a free loopback port with each layer's routes under its prefix (`''`: at the
 * root; several layers: only bare may sit there, the others each scoped to its prefix); `close()`
 * stops it and what it opened.
 */
export async function startApp(
  framework: Framework,
  mounts: readonly Mount[],
  counter: CallCounter,
): Promise<RunningServer> {
  if (mounts.length > 1 && mounts.some((m) => m.prefix === '' && m.layer.kind !== 'bare'))
    throw new Error('several layers in one server: only bare may be mounted at the root')
  const cleanups: (() => Promise<void>)[] = []
  const port = await starters[framework](mounts, counter, cleanups)
  return {
    port,
    close: async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
    },
  }
}

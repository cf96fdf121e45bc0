import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AuthUser, SessionManagerOptions, TicketStore, UserSource } from '@sessionbridge/core'
import * as sbFastify from '@sessionbridge/fastify'
import * as sbHono from '@sessionbridge/hono'
import * as sbKoa from '@sessionbridge/koa'
import Fastify from 'fastify'
import { Hono, type Context as HonoContext } from 'hono'
import Koa, { type Context, type Middleware } from 'koa'

/** The frameworks every HTTP test runs on (`hono-fetch`: Hono under `sessionFetch`, not the middleware). */
export const FRAMEWORKS = ['fastify', 'koa', 'hono', 'hono-fetch'] as const
export type FrameworkName = (typeof FRAMEWORKS)[number]

/** One HTTP request to an app under test. */
export interface HttpCall {
  method?: 'GET' | 'POST'
  path: string
  /** The `Cookie` header. */
  cookie?: string | null
  headers?: Record<string, string>
}

/** What came back, the same shape for every framework. */
export interface HttpReply {
  status: number
  /** `Set-Cookie` values. */
  setCookies: string[]
  body: string
}

/** A small app with the same routes on every framework. */
export interface AppUnderTest {
  framework: FrameworkName
  call(request: HttpCall): Promise<HttpReply>
  close(): Promise<void>
}

/** How the app is configured: core session options, plus users and a ticket store. */
export interface AppOptions extends SessionManagerOptions {
  users?: UserSource<AuthUser>
  tickets?: TicketStore | null
  /** Called by `POST /read-then-write/:key/:value` between its read and its write (to inject a fault). */
  afterRead?: () => void | Promise<void>
}

/**
 * The routes, framework-free: `GET /read` (all data as JSON), `POST /write/:key/:value`,
 * `POST /login/:username`, `POST /logout`, `POST /regenerate`, `GET /whoami`, `GET /guarded`
 * (logged in or Basic), `POST /ticket`, `POST /read-then-write/:key/:value` (reads, calls
 * `afterRead`, then writes: the commit is the only backend call left).
 */
const parts = (path: string) => path.split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent)

/** Builds the app on `framework`. */
export async function buildApp(framework: FrameworkName, options: AppOptions): Promise<AppUnderTest> {
  if (framework === 'fastify') return fastifyApp(options)
  if (framework === 'koa') return koaApp(options)
  return honoApp(options, framework)
}

async function fastifyApp(options: AppOptions): Promise<AppUnderTest> {
  // HTTPS is Fastify's to decide (its own trustProxy), not a session option.
  const { tickets = null, afterRead: _afterRead, trustProxy = false, ...sessionOptions } = options
  const app = Fastify({ logger: false, trustProxy })
  await app.register(sbFastify.sessionPlugin, sessionOptions)
  app.get('/read', async (request) => request.session.all())
  app.post('/write/:key/:value', async (request) => {
    const { key, value } = request.params as { key: string; value: string }
    request.session.set(key, value)
    return 'ok'
  })
  app.post('/read-then-write/:key/:value', async (request) => {
    const { key, value } = request.params as { key: string; value: string }
    await request.session.all()
    await options.afterRead?.()
    request.session.set(key, value)
    return 'ok'
  })
  app.post('/login/:username', async (request, reply) => {
    const user = await options.users?.findByLogin((request.params as { username: string }).username)
    if (!user) return reply.code(404).send('no such user')
    await request.login(user)
    return 'ok'
  })
  app.post('/logout', async (request) => {
    request.logout()
    return 'ok'
  })
  app.post('/regenerate', async (request) => {
    request.session.regenerate()
    return 'ok'
  })
  app.get('/whoami', async (request) => ({ user: (await request.user)?.username ?? null }))
  app.get('/guarded', { preHandler: sbFastify.loggedInOrBasicAuth() }, async (request) => ({
    user: (await request.user)?.username ?? null,
  }))
  app.post('/ticket', sbFastify.ticketRoute(tickets))
  await app.ready()
  return {
    framework: 'fastify',
    async call({ method = 'GET', path, cookie, headers = {} }) {
      const reply = await app.inject({
        method,
        url: path,
        headers: { ...headers, ...(cookie ? { cookie } : {}) },
      })
      const raw = reply.headers['set-cookie']
      const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)]
      return { status: reply.statusCode, setCookies, body: reply.body }
    },
    close: () => app.close(),
  }
}

async function koaApp(options: AppOptions): Promise<AppUnderTest> {
  // HTTPS is Koa's to decide (app.proxy), not a session option.
  const { tickets = null, afterRead: _afterRead, trustProxy = false, ...sessionOptions } = options
  const app = new Koa()
  app.silent = true
  app.proxy = trustProxy
  app.use(sbKoa.sessionMiddleware(sessionOptions))
  const guard = sbKoa.loggedInOrBasicAuth()
  const ticket = sbKoa.ticketRoute(tickets)
  const route: Middleware = async (ctx: Context, next) => {
    const [first, ...rest] = parts(ctx.path)
    const post = ctx.method === 'POST'
    if (!post && first === 'read') ctx.body = await ctx.session.all()
    else if (post && first === 'write' && rest.length === 2) {
      ctx.session.set(rest[0]!, rest[1]!)
      ctx.body = 'ok'
    } else if (post && first === 'read-then-write' && rest.length === 2) {
      await ctx.session.all()
      await options.afterRead?.()
      ctx.session.set(rest[0]!, rest[1]!)
      ctx.body = 'ok'
    } else if (post && first === 'login') {
      const user = await options.users?.findByLogin(rest[0] ?? '')
      if (!user) ctx.throw(404, 'no such user')
      await ctx.login(user)
      ctx.body = 'ok'
    } else if (post && first === 'logout') {
      ctx.logout()
      ctx.body = 'ok'
    } else if (post && first === 'regenerate') {
      ctx.session.regenerate()
      ctx.body = 'ok'
    } else if (!post && first === 'whoami') ctx.body = { user: (await ctx.state.user)?.username ?? null }
    else if (!post && first === 'guarded') {
      await guard(ctx, async () => {
        ctx.body = { user: (await ctx.state.user)?.username ?? null }
      })
    } else if (post && first === 'ticket') await ticket(ctx, next)
  }
  app.use(route)
  const server = createServer(app.callback())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    framework: 'koa',
    async call({ method = 'GET', path, cookie, headers = {} }) {
      const response = await fetch(base + path, {
        method,
        headers: { ...headers, ...(cookie ? { cookie } : {}) },
      })
      return {
        status: response.status,
        setCookies: response.headers.getSetCookie(),
        body: await response.text(),
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function honoApp(options: AppOptions, framework: 'hono' | 'hono-fetch'): Promise<AppUnderTest> {
  const { tickets = null, afterRead: _afterRead, ...sessionOptions } = options
  const app = new Hono<sbHono.SessionEnv>()
  // `sessionOf(c)` under both: the middleware's own `c.get(...)` is the behaviour suites' to test.
  const s = (c: HonoContext) => sbHono.sessionOf(c)
  if (framework === 'hono') app.use(sbHono.sessionMiddleware(sessionOptions))
  app.get('/read', async (c) => c.json(await s(c).session.all()))
  app.post('/write/:key/:value', async (c) => {
    s(c).session.set(c.req.param('key'), c.req.param('value'))
    return c.text('ok')
  })
  app.post('/read-then-write/:key/:value', async (c) => {
    await s(c).session.all()
    await options.afterRead?.()
    s(c).session.set(c.req.param('key'), c.req.param('value'))
    return c.text('ok')
  })
  app.post('/login/:username', async (c) => {
    const user = await options.users?.findByLogin(c.req.param('username'))
    if (!user) return c.text('no such user', 404)
    await s(c).login(user)
    return c.text('ok')
  })
  app.post('/logout', async (c) => {
    s(c).logout()
    return c.text('ok')
  })
  app.post('/regenerate', async (c) => {
    s(c).session.regenerate()
    return c.text('ok')
  })
  app.get('/whoami', async (c) => c.json({ user: (await s(c).user)?.username ?? null }))
  app.get('/guarded', sbHono.loggedInOrBasicAuth(), async (c) =>
    c.json({ user: (await s(c).user)?.username ?? null }),
  )
  app.post('/ticket', sbHono.ticketRoute(tickets))
  const fetch = framework === 'hono' ? app.fetch : sbHono.sessionFetch(app, sessionOptions)
  return {
    framework,
    async call({ method = 'GET', path, cookie, headers = {} }) {
      const response = await fetch(
        new Request(`http://localhost${path}`, {
          method,
          headers: { ...headers, ...(cookie ? { cookie } : {}) },
        }),
      )
      return {
        status: response.status,
        setCookies: response.headers.getSetCookie(),
        body: await response.text(),
      }
    },
    close: async () => {},
  }
}

/** `name=value` of the session cookie among `setCookies`, or `null`. */
export function sessionCookie(setCookies: readonly string[], name = 'sessionid'): string | null {
  const found = setCookies.find((c) => c.startsWith(`${name}=`))
  return found ? found.split(';')[0]! : null
}

// The servers the HTTP benchmark compares. Each variant starts one framework on a port with three
// routes: `GET /` ignores the session, `GET /read` reads `count`, `GET /incr` increments it;
// `GET /seed` gives a cookie for the read and write scenarios (bare variants give none).
// To add a peer (@fastify/session, koa-session, hono-sessions, express-session), add an entry here.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { memoryBackend } from '@sessionbridge/core'
import { sessionPlugin } from '@sessionbridge/fastify'
import { sessionMiddleware as honoSession } from '@sessionbridge/hono'
import { sessionMiddleware as koaSession } from '@sessionbridge/koa'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'

/** A running server: its port, and how to stop it. */
export interface RunningServer {
  port: number
  close(): Promise<void>
}

export interface Variant {
  /** `framework:variant`, e.g. `fastify:sessionbridge`. */
  name: string
  /** The bare variant of the same framework, which ratios are taken against. */
  baseline: string
  start(): Promise<RunningServer>
}

const backend = () => memoryBackend({ maxEntries: 100_000 })

async function fastifyApp(withSessions: boolean): Promise<RunningServer> {
  const app = Fastify({ logger: false })
  let counter = 0
  if (withSessions) {
    await app.register(sessionPlugin, { backend: backend() })
    app.get('/seed', async (request) => {
      request.session.set('count', 0)
      return 'seeded'
    })
    app.get('/read', async (request) => String((await request.session.get('count')) ?? 0))
    app.get('/incr', async (request) => {
      const count = (((await request.session.get('count')) as number | undefined) ?? 0) + 1
      request.session.set('count', count)
      return String(count)
    })
  } else {
    app.get('/seed', async () => 'seeded')
    app.get('/read', async () => String(counter))
    app.get('/incr', async () => String(++counter))
  }
  app.get('/', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() }
}

async function koaApp(withSessions: boolean): Promise<RunningServer> {
  const app = new Koa()
  let counter = 0
  if (withSessions) app.use(koaSession({ backend: backend() }))
  app.use(async (ctx) => {
    if (ctx.path === '/') ctx.body = 'ok'
    else if (ctx.path === '/seed') {
      if (withSessions) ctx.session.set('count', 0)
      ctx.body = 'seeded'
    } else if (ctx.path === '/read') {
      ctx.body = String(withSessions ? ((await ctx.session.get('count')) ?? 0) : counter)
    } else if (ctx.path === '/incr') {
      if (withSessions) {
        const count = (((await ctx.session.get('count')) as number | undefined) ?? 0) + 1
        ctx.session.set('count', count)
        ctx.body = String(count)
      } else ctx.body = String(++counter)
    }
  })
  const server = createServer(app.callback())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function honoApp(withSessions: boolean): Promise<RunningServer> {
  let counter = 0
  const app = new Hono()
  if (withSessions) {
    const sessions = new Hono<{ Variables: { session: import('@sessionbridge/core').Session } }>()
    sessions.use(honoSession({ backend: backend() }))
    sessions.get('/', (c) => c.text('ok'))
    sessions.get('/seed', (c) => {
      c.get('session').set('count', 0)
      return c.text('seeded')
    })
    sessions.get('/read', async (c) => c.text(String((await c.get('session').get('count')) ?? 0)))
    sessions.get('/incr', async (c) => {
      const session = c.get('session')
      const count = (((await session.get('count')) as number | undefined) ?? 0) + 1
      session.set('count', count)
      return c.text(String(count))
    })
    app.route('/', sessions)
  } else {
    app.get('/', (c) => c.text('ok'))
    app.get('/seed', (c) => c.text('seeded'))
    app.get('/read', (c) => c.text(String(counter)))
    app.get('/incr', (c) => c.text(String(++counter)))
  }
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({ port: info.port, close: () => new Promise<void>((done) => server.close(() => done())) }),
    )
  })
}

export const VARIANTS: Variant[] = [
  { name: 'fastify:bare', baseline: 'fastify:bare', start: () => fastifyApp(false) },
  { name: 'fastify:sessionbridge', baseline: 'fastify:bare', start: () => fastifyApp(true) },
  { name: 'koa:bare', baseline: 'koa:bare', start: () => koaApp(false) },
  { name: 'koa:sessionbridge', baseline: 'koa:bare', start: () => koaApp(true) },
  { name: 'hono:bare', baseline: 'hono:bare', start: () => honoApp(false) },
  { name: 'hono:sessionbridge', baseline: 'hono:bare', start: () => honoApp(true) },
]

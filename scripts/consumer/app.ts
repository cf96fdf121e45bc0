// The consumer app of the consumer test (scripts/consumer/run.mjs): what a stranger writes after
// `npm install`ing the tarballs. Strict TypeScript, compiled with NodeNext and with Bundler
// resolution against the packed declarations (skipLibCheck off). One backend at a time (memory,
// SQLite, Redis, memcached) is shared by a Fastify, a Koa and a Hono server, so a login made in one
// is a login in the others. It prints one JSON line with the servers' URLs, then serves until
// SIGTERM. Only the app-facing API is used: plugin/middleware registration and the backends.
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { type AuthUser, memoryBackend, memoryUserSource, type SessionBackend } from '@sessionbridge/core'
import { sessionPlugin } from '@sessionbridge/fastify'
import { sessionMiddleware as honoSession, type SessionEnv } from '@sessionbridge/hono'
import { sessionMiddleware as koaSession } from '@sessionbridge/koa'
import { memcachedBackend } from '@sessionbridge/memcached'
import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import { migrate, sqlBackend, sqliteClient } from '@sessionbridge/sql'
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import { createClient } from 'redis'

declare module '@sessionbridge/fastify' {
  interface SessionDataMap {
    visits: number
  }
}
declare module '@sessionbridge/koa' {
  interface SessionDataMap {
    visits: number
  }
}
interface HonoData {
  [key: string]: unknown
  visits: number
}

const run = process.env.CONSUMER_RUN ?? `${process.pid}`
const users = memoryUserSource({ users: [{ id: 1, username: 'alice', password: 'alice-password' }] })
const closers: Array<() => Promise<unknown>> = []

async function backends(): Promise<Record<string, SessionBackend>> {
  const sqlite = sqliteClient(new Database(':memory:'))
  await migrate(sqlite, { layout: 'native' })
  const redis = createClient({
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    disableOfflineQueue: true,
  })
  redis.on('error', (error: Error) => console.error('redis:', error.message))
  await redis.connect()
  closers.push(() => redis.close())
  const memcached = memcachedBackend({
    servers: [process.env.MEMCACHED_SERVER ?? '127.0.0.1:11211'],
    prefix: `consumer:${run}:`,
  })
  closers.push(async () => memcached.close?.())
  return {
    memory: memoryBackend(),
    sqlite: sqlBackend({ client: sqlite, layout: 'native' }),
    redis: redisBackend({ client: nodeRedisAdapter(redis), prefix: `consumer:${run}:` }),
    memcached,
  }
}

const credentials = (body: unknown): { username: string; password: string } => {
  const { username, password } = (body ?? {}) as Record<string, unknown>
  return { username: String(username ?? ''), password: String(password ?? '') }
}

async function fastifyApp(backend: SessionBackend): Promise<string> {
  const app = Fastify()
  await app.register(sessionPlugin, { backend, users })
  app.get('/visits', async (request) => {
    const visits: number = ((await request.session.get('visits')) ?? 0) + 1
    request.session.set('visits', visits)
    return { visits }
  })
  app.get('/me', async (request) => ({ user: (await request.user)?.username ?? null }))
  app.post('/login', async (request, reply) => {
    const { username, password } = credentials(request.body)
    const user = await users.findByLogin(username)
    if (!user || !(await users.verifyPassword(user, password))) return reply.code(401).send({ ok: false })
    await request.login(user)
    return { ok: true }
  })
  app.post('/logout', async (request) => {
    request.logout()
    return { ok: true }
  })
  closers.push(() => app.close())
  return app.listen({ port: 0, host: '127.0.0.1' })
}

async function koaApp(backend: SessionBackend): Promise<string> {
  const app = new Koa()
  app.use(koaSession({ backend, users }))
  app.use(async (ctx, next) => {
    if (ctx.path === '/visits') {
      const visits: number = ((await ctx.session.get('visits')) ?? 0) + 1
      ctx.session.set('visits', visits)
      ctx.body = { visits }
    } else if (ctx.path === '/me') {
      ctx.body = { user: (await ctx.state.user)?.username ?? null }
    } else if (ctx.path === '/logout' && ctx.method === 'POST') {
      ctx.logout()
      ctx.body = { ok: true }
    } else await next()
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  closers.push(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function honoApp(backend: SessionBackend): Promise<string> {
  const app = new Hono<SessionEnv<HonoData, AuthUser>>()
  app.use(honoSession<HonoData, AuthUser>({ backend, users }))
  app.get('/visits', async (c) => {
    const session = c.get('session')
    const visits: number = ((await session.get('visits')) ?? 0) + 1
    session.set('visits', visits)
    return c.json({ visits })
  })
  app.get('/me', async (c) => c.json({ user: (await c.get('user'))?.username ?? null }))
  app.post('/logout', (c) => {
    c.get('logout')()
    return c.json({ ok: true })
  })
  const port = await new Promise<number>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port))
    closers.push(() => new Promise((done) => server.close(done)))
  })
  return `http://127.0.0.1:${port}`
}

const urls: Record<string, string> = {}
for (const [name, backend] of Object.entries(await backends())) {
  urls[`fastify/${name}`] = await fastifyApp(backend)
  urls[`koa/${name}`] = await koaApp(backend)
  urls[`hono/${name}`] = await honoApp(backend)
}
console.log(JSON.stringify(urls))

process.once('SIGTERM', async () => {
  for (const close of closers.reverse()) await close()
  process.exit(0)
})

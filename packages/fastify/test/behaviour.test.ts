import type { BehaviourApp, BehaviourAppOptions } from '@sessionbridge/core/testing/http'
import { forwardTo, testFrameworkBehaviour } from '@sessionbridge/core/testing/http'
import Fastify, { type FastifyInstance } from 'fastify'
import {
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  realtimeTicket,
  sessionPlugin,
  ticketRoute,
} from '../src/index.ts'

type Query = Record<string, string | undefined>

/** The behaviour suite's routes, on Fastify. */
export async function buildApp(options: BehaviourAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ trustProxy: options.trustProxy })
  await app.register(sessionPlugin, { ...options.session, users: options.users })
  const { realm, permission } = options
  app.get('/read', async (request) => ({
    value: (await request.session.get((request.query as Query).key!)) ?? null,
  }))
  app.post('/write', async (request) => {
    const { key, value } = request.query as Query
    request.session.set(key!, value)
    return { ok: true }
  })
  app.post('/incr', async (request) => {
    const count = (((await request.session.get('count')) as number | undefined) ?? 0) + 1
    request.session.set('count', count)
    return { count }
  })
  app.post('/login', async (request, reply) => {
    const user = await options.users.findByLogin((request.query as Query).username ?? '')
    if (!user) return reply.code(404).send({ ok: false })
    await request.login(user)
    return { ok: true }
  })
  app.post('/logout', async (request) => {
    request.logout()
    return { ok: true }
  })
  app.get('/whoami', async (request) => {
    const first = await request.user
    const again = await request.user.get()
    return { user: first === again ? (first?.username ?? null) : 'not cached' }
  })
  app.post('/flash', async (request) => {
    request.session.flash('notice', (request.query as Query).message)
    return { ok: true }
  })
  app.get('/flash', async (request) => ({ message: (await request.session.takeFlash('notice')) ?? null }))
  app.post('/expiry', async (request) => {
    request.session.setMaxAge(Number((request.query as Query).seconds))
    return { ok: true }
  })
  const whoami = async (request: { user: PromiseLike<{ username: string } | null> }) => ({
    user: (await request.user)?.username,
  })
  app.get('/private', { preHandler: loggedInOrBasicAuth({ realm }) }, whoami)
  app.get('/private-login', { preHandler: loggedInOrBasicAuth({ realm, login: true }) }, whoami)
  app.get('/perm', { preHandler: permissionOrBasicAuth(permission, { realm }) }, whoami)
  app.post('/ticket', ticketRoute(options.tickets))
  app.get('/page', { preHandler: realtimeTicket(options.tickets) }, async (request) => ({
    ticket: request.realtimeTicket,
  }))
  app.get('/redirect', async (request, reply) => {
    request.session.set('redirected', 'yes')
    return reply.redirect('/read?key=redirected')
  })
  app.get('/bad-redirect', async (request, reply) => {
    request.session.set('redirected', 'yes')
    return reply.redirect('/\u20ac\u0007')
  })
  app.get('/fail', async (request) => {
    request.session.set('failed', 'yes')
    throw new Error('boom')
  })
  await app.ready()
  return app
}

/** Drives the app with `inject`, no socket. */
async function injected(options: BehaviourAppOptions): Promise<BehaviourApp> {
  const app = await buildApp(options)
  return {
    async fetch(request) {
      const url = new URL(request.url)
      const res = await app.inject({
        method: request.method as 'GET' | 'POST',
        url: url.pathname + url.search,
        headers: Object.fromEntries(request.headers),
      })
      const headers = new Headers()
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : [value])
          if (v !== undefined) headers.append(name, String(v))
      }
      return new Response(res.statusCode === 204 ? null : new Uint8Array(res.rawPayload), {
        status: res.statusCode,
        headers,
      })
    },
    close: () => app.close(),
  }
}

/** Drives the app over a real listening socket (port 0). */
async function listening(options: BehaviourAppOptions): Promise<BehaviourApp> {
  const app = await buildApp(options)
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    fetch: forwardTo(base),
    close: () => app.close(),
  }
}

testFrameworkBehaviour({ name: 'fastify (inject)', makeApp: injected })
testFrameworkBehaviour({ name: 'fastify (socket)', makeApp: listening })

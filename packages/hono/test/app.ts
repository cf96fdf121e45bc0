import type { BehaviourAppOptions } from '@sessionbridge/core/testing/http'
import { Hono } from 'hono'
import {
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  realtimeTicket,
  type SessionEnv,
  sessionMiddleware,
  ticketRoute,
} from '../src/index.ts'

/** The behaviour suite's routes, on Hono. Web APIs only: it also runs inside the edge VM. */
export function buildApp(options: BehaviourAppOptions): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>()
  const { realm, permission } = options
  app.use(sessionMiddleware({ ...options.session, users: options.users, trustProxy: options.trustProxy }))
  // Hono's default answer, minus the console noise of the expected failures.
  app.onError((error, c) =>
    'getResponse' in error
      ? (error as { getResponse(): Response }).getResponse()
      : c.text('Internal Server Error', 500),
  )
  const whoami = async (c: { get(key: 'user'): PromiseLike<{ username: string } | null> }) => ({
    user: (await c.get('user'))?.username,
  })
  app.get('/read', async (c) =>
    c.json({ value: (await c.get('session').get(c.req.query('key') ?? '')) ?? null }),
  )
  app.post('/write', (c) => {
    c.get('session').set(c.req.query('key') ?? '', c.req.query('value'))
    return c.json({ ok: true })
  })
  app.post('/incr', async (c) => {
    const session = c.get('session')
    const count = (((await session.get('count')) as number | undefined) ?? 0) + 1
    session.set('count', count)
    return c.json({ count })
  })
  app.post('/login', async (c) => {
    const user = await options.users.findByLogin(c.req.query('username') ?? '')
    if (!user) return c.json({ ok: false }, 404)
    await c.get('login')(user)
    return c.json({ ok: true })
  })
  app.post('/logout', (c) => {
    c.get('logout')()
    return c.json({ ok: true })
  })
  app.get('/whoami', async (c) => {
    const first = await c.get('user')
    const again = await c.get('user').get()
    return c.json({ user: first === again ? (first?.username ?? null) : 'not cached' })
  })
  app.post('/flash', (c) => {
    c.get('session').flash('notice', c.req.query('message'))
    return c.json({ ok: true })
  })
  app.get('/flash', async (c) => c.json({ message: (await c.get('session').takeFlash('notice')) ?? null }))
  app.post('/expiry', (c) => {
    c.get('session').setMaxAge(Number(c.req.query('seconds')))
    return c.json({ ok: true })
  })
  app.get('/private', loggedInOrBasicAuth({ realm }), async (c) => c.json(await whoami(c)))
  app.get('/private-login', loggedInOrBasicAuth({ realm, login: true }), async (c) => c.json(await whoami(c)))
  app.get('/perm', permissionOrBasicAuth(permission, { realm }), async (c) => c.json(await whoami(c)))
  app.post('/ticket', ticketRoute(options.tickets))
  app.get('/page', realtimeTicket(options.tickets), (c) => c.json({ ticket: c.get('realtimeTicket') }))
  app.get('/redirect', (c) => {
    c.get('session').set('redirected', 'yes')
    return c.redirect('/read?key=redirected')
  })
  app.get('/bad-redirect', (c) => {
    c.get('session').set('redirected', 'yes')
    return c.redirect('/\u20ac\u0007')
  })
  app.get('/fail', (c) => {
    c.get('session').set('failed', 'yes')
    throw new Error('boom')
  })
  return app
}

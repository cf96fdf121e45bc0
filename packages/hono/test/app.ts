import type { AuthUser, LazyUser, Session } from '@sessionbridge/core'
import type { BehaviourAppOptions } from '@sessionbridge/core/testing/http'
import { type Context, Hono } from 'hono'
import {
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  realtimeTicket,
  type SessionEnv,
  sessionFetch,
  sessionMiddleware,
  sessionOf,
  ticketRoute,
} from '../src/index.ts'

/** How the app gets its sessions: `sessionMiddleware` (through `c.get`) or `sessionFetch` (`sessionOf`). */
export type Integration = 'middleware' | 'fetch'

/** What a handler uses, read the integration's way. */
interface Access {
  session(c: Context): Session
  user(c: Context): LazyUser<AuthUser>
  login(c: Context, user: AuthUser): Promise<void>
  logout(c: Context): void
}
const throughGet: Access = {
  session: (c) => c.get('session'),
  user: (c) => c.get('user'),
  login: (c, user) => c.get('login')(user),
  logout: (c) => c.get('logout')(),
}
const throughSessionOf: Access = {
  session: (c) => sessionOf(c).session,
  user: (c) => sessionOf(c).user,
  login: (c, user) => sessionOf(c).login(user),
  logout: (c) => sessionOf(c).logout(),
}

/** The behaviour suite's app, on Hono: its `fetch`. Web APIs only: it also runs inside the edge VM. */
export function buildFetch(
  options: BehaviourAppOptions,
  integration: Integration = 'middleware',
): (request: Request) => Response | Promise<Response> {
  const sessionOptions = { ...options.session, users: options.users, trustProxy: options.trustProxy }
  if (integration === 'middleware') {
    const app = new Hono<SessionEnv>()
    app.use(sessionMiddleware(sessionOptions))
    return routes(app, options, throughGet).fetch
  }
  return sessionFetch(routes(new Hono<SessionEnv>(), options, throughSessionOf), sessionOptions)
}

function routes(app: Hono<SessionEnv>, options: BehaviourAppOptions, v: Access): Hono<SessionEnv> {
  const { realm, permission } = options
  // Hono's default answer, minus the console noise of the expected failures.
  app.onError((error, c) =>
    'getResponse' in error
      ? (error as { getResponse(): Response }).getResponse()
      : c.text('Internal Server Error', 500),
  )
  const whoami = async (c: Context) => ({ user: (await v.user(c))?.username })
  app.get('/read', async (c) => c.json({ value: (await v.session(c).get(c.req.query('key') ?? '')) ?? null }))
  app.post('/write', (c) => {
    v.session(c).set(c.req.query('key') ?? '', c.req.query('value'))
    return c.json({ ok: true })
  })
  app.post('/incr', async (c) => {
    const session = v.session(c)
    const count = (((await session.get('count')) as number | undefined) ?? 0) + 1
    session.set('count', count)
    return c.json({ count })
  })
  app.post('/login', async (c) => {
    const user = await options.users.findByLogin(c.req.query('username') ?? '')
    if (!user) return c.json({ ok: false }, 404)
    await v.login(c, user)
    return c.json({ ok: true })
  })
  app.post('/logout', (c) => {
    v.logout(c)
    return c.json({ ok: true })
  })
  app.get('/whoami', async (c) => {
    const first = await v.user(c)
    const again = await v.user(c).get()
    return c.json({ user: first === again ? (first?.username ?? null) : 'not cached' })
  })
  app.post('/flash', (c) => {
    v.session(c).flash('notice', c.req.query('message'))
    return c.json({ ok: true })
  })
  app.get('/flash', async (c) => c.json({ message: (await v.session(c).takeFlash('notice')) ?? null }))
  app.post('/expiry', (c) => {
    v.session(c).setMaxAge(Number(c.req.query('seconds')))
    return c.json({ ok: true })
  })
  app.get('/private', loggedInOrBasicAuth({ realm }), async (c) => c.json(await whoami(c)))
  app.get('/private-login', loggedInOrBasicAuth({ realm, login: true }), async (c) => c.json(await whoami(c)))
  app.get('/perm', permissionOrBasicAuth(permission, { realm }), async (c) => c.json(await whoami(c)))
  app.post('/ticket', ticketRoute(options.tickets))
  app.get('/page', realtimeTicket(options.tickets), (c) => c.json({ ticket: c.get('realtimeTicket') }))
  app.get('/redirect', (c) => {
    v.session(c).set('redirected', 'yes')
    return c.redirect('/read?key=redirected')
  })
  app.get('/bad-redirect', (c) => {
    v.session(c).set('redirected', 'yes')
    return c.redirect('/\u20ac\u0007')
  })
  app.get('/fail', (c) => {
    v.session(c).set('failed', 'yes')
    throw new Error('boom')
  })
  return app
}

import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { testFrameworkSecurity } from '@sessionbridge/core/testing'
import { type Context, Hono } from 'hono'
import {
  loggedInOrBasicAuth,
  type SessionAccess,
  type SessionEnv,
  sessionFetch,
  sessionMiddleware,
  sessionOf,
} from '../src/index.ts'

const fields = async (c: Context): Promise<Record<string, string>> => {
  if ((c.req.header('content-type') ?? '').startsWith('application/json')) return c.req.json()
  const body = await c.req.parseBody()
  return Object.fromEntries(
    Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'),
  )
}

/** What the routes use: `c.get(...)` under the middleware, `sessionOf(c)` under `sessionFetch`. */
const throughGet = (c: Context<SessionEnv>): SessionAccess => ({
  session: c.get('session'),
  user: c.get('user'),
  login: c.get('login'),
  logout: c.get('logout'),
  authenticate: c.get('authenticate'),
  csrfToken: c.get('csrfToken'),
})

for (const integration of ['middleware', 'sessionFetch'] as const) {
  testFrameworkSecurity({
    name: `hono ${integration} (node-server)`,
    async makeApp({ session, users, csrf, throttle }) {
      const options = { ...session, users, csrf, throttle }
      const app = new Hono<SessionEnv>()
      const access: (c: Context<SessionEnv>) => SessionAccess =
        integration === 'middleware' ? throughGet : (c) => sessionOf(c)
      if (integration === 'middleware') app.use(sessionMiddleware(options))
      app.get('/token', async (c) => c.json({ token: await access(c).csrfToken() }))
      app.post('/login', async (c) => {
        const { username = '', password = '' } = await fields(c)
        const result = await access(c).authenticate(username, password)
        if (result.status === 'throttled')
          return c.json({}, 429, { 'retry-after': String(result.retryAfterSeconds) })
        if (result.status !== 'ok') return c.json({}, 401)
        await access(c).login(result.user)
        return c.json({ user: result.user.username })
      })
      app.post('/logout', (c) => {
        access(c).logout()
        return c.json({ ok: true })
      })
      for (const path of ['/write', '/exempt']) {
        app.post(path, (c) => {
          access(c).session.set('x', 1)
          return c.json({ ok: true })
        })
      }
      app.get('/private', loggedInOrBasicAuth(), async (c) =>
        c.json({ user: (await access(c).user)?.username }),
      )
      const fetch = integration === 'middleware' ? app.fetch : sessionFetch(app, options)
      const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
      })
      const { port } = server.address() as AddressInfo
      return {
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      }
    },
  })
}

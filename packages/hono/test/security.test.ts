import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { testFrameworkSecurity } from '@sessionbridge/core/testing'
import { type Context, Hono } from 'hono'
import { loggedInOrBasicAuth, type SessionEnv, sessionMiddleware } from '../src/index.ts'

const fields = async (c: Context): Promise<Record<string, string>> => {
  if ((c.req.header('content-type') ?? '').startsWith('application/json')) return c.req.json()
  const body = await c.req.parseBody()
  return Object.fromEntries(
    Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'),
  )
}

testFrameworkSecurity({
  name: 'hono (node-server)',
  async makeApp({ session, users, csrf, throttle }) {
    const app = new Hono<SessionEnv>()
    app.use(sessionMiddleware({ ...session, users, csrf, throttle }))
    app.get('/token', async (c) => c.json({ token: await c.get('csrfToken')() }))
    app.post('/login', async (c) => {
      const { username = '', password = '' } = await fields(c)
      const result = await c.get('authenticate')(username, password)
      if (result.status === 'throttled')
        return c.json({}, 429, { 'retry-after': String(result.retryAfterSeconds) })
      if (result.status !== 'ok') return c.json({}, 401)
      await c.get('login')(result.user)
      return c.json({ user: result.user.username })
    })
    app.post('/logout', (c) => {
      c.get('logout')()
      return c.json({ ok: true })
    })
    for (const path of ['/write', '/exempt']) {
      app.post(path, (c) => {
        c.get('session').set('x', 1)
        return c.json({ ok: true })
      })
    }
    app.get('/private', loggedInOrBasicAuth(), async (c) => c.json({ user: (await c.get('user'))?.username }))
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    const { port } = server.address() as AddressInfo
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    }
  },
})

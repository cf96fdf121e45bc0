import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { testFrameworkSecurity } from '@sessionbridge/core/testing'
import express from 'express'
import { loggedInOrBasicAuth, sessionMiddleware } from '../src/index.ts'

testFrameworkSecurity({
  name: 'express',
  async makeApp({ session, users, csrf, throttle }) {
    const app = express()
    // Express's own body parsers, before the session middleware: its CSRF check reads `req.body`.
    app.use(express.urlencoded(), express.json())
    app.use(sessionMiddleware({ ...session, users, csrf, throttle }))
    app.get('/token', async (req, res) => {
      res.json({ token: await req.csrfToken() })
    })
    app.post('/login', async (req, res) => {
      const { username = '', password = '' } = (req.body ?? {}) as Record<string, string>
      const result = await req.authenticate(username, password)
      if (result.status === 'throttled')
        return void res.status(429).set('retry-after', String(result.retryAfterSeconds)).json({})
      if (result.status !== 'ok') return void res.status(401).json({})
      await req.login(result.user)
      res.json({ user: result.user.username })
    })
    app.post('/logout', (req, res) => {
      req.logout()
      res.json({ ok: true })
    })
    for (const path of ['/write', '/exempt']) {
      app.post(path, (req, res) => {
        req.session.set('x', 1)
        res.json({ ok: true })
      })
    }
    app.get('/private', loggedInOrBasicAuth(), async (req, res) => {
      res.json({ user: (await req.user)?.username })
    })
    const server = createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    }
  },
})

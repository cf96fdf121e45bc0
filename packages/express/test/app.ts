import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BehaviourApp, type BehaviourAppOptions, forwardTo } from '@sessionbridge/core/testing/http'
import express, { type Express, type Request } from 'express'
import {
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  realtimeTicket,
  sessionErrorHandler,
  sessionMiddleware,
  ticketRoute,
} from '../src/index.ts'

const q = (req: Request, name: string) => String(req.query[name] ?? '')

/** The behaviour suite's routes, on Express 5. */
export function buildApp(options: BehaviourAppOptions): Express {
  const app = express()
  app.set('trust proxy', options.trustProxy)
  const { realm, permission } = options
  app.use(sessionMiddleware({ ...options.session, users: options.users }))
  const whoami = async (req: Request, res: express.Response) => {
    res.json({ user: (await req.user)?.username })
  }
  app.get('/read', async (req, res) => {
    res.json({ value: (await req.session.get(q(req, 'key'))) ?? null })
  })
  app.post('/write', (req, res) => {
    req.session.set(q(req, 'key'), q(req, 'value'))
    res.json({ ok: true })
  })
  app.post('/incr', async (req, res) => {
    const count = (((await req.session.get('count')) as number | undefined) ?? 0) + 1
    req.session.set('count', count)
    res.json({ count })
  })
  app.post('/login', async (req, res) => {
    const user = await options.users.findByLogin(q(req, 'username'))
    if (!user) return void res.status(404).json({ ok: false })
    await req.login(user)
    res.json({ ok: true })
  })
  app.post('/logout', (req, res) => {
    req.logout()
    res.json({ ok: true })
  })
  app.get('/whoami', async (req, res) => {
    const first = await req.user
    const again = await req.user.get()
    res.json({ user: first === again ? (first?.username ?? null) : 'not cached' })
  })
  app.post('/flash', (req, res) => {
    req.session.flash('notice', q(req, 'message'))
    res.json({ ok: true })
  })
  app.get('/flash', async (req, res) => {
    res.json({ message: (await req.session.takeFlash('notice')) ?? null })
  })
  app.post('/expiry', (req, res) => {
    req.session.setMaxAge(Number(q(req, 'seconds')))
    res.json({ ok: true })
  })
  app.get('/private', loggedInOrBasicAuth({ realm }), whoami)
  app.get('/private-login', loggedInOrBasicAuth({ realm, login: true }), whoami)
  app.get('/perm', permissionOrBasicAuth(permission, { realm }), whoami)
  app.post('/ticket', ticketRoute(options.tickets))
  app.get('/page', realtimeTicket(options.tickets), (req, res) => {
    res.json({ ticket: req.realtimeTicket })
  })
  app.get('/redirect', (req, res) => {
    req.session.set('redirected', 'yes')
    res.redirect('/read?key=redirected')
  })
  app.get('/bad-redirect', (req, res) => {
    req.session.set('redirected', 'yes')
    res.status(302).setHeader('Location', '/\u20ac\u0007')
    res.end()
  })
  app.get('/fail', (req) => {
    req.session.set('failed', 'yes')
    throw new Error('boom')
  })
  app.use(sessionErrorHandler())
  // Express's own final handler, minus the console noise of the expected failures.
  app.use((error: { status?: number }, _req: Request, res: express.Response, _next: express.NextFunction) => {
    res
      .status(error.status ?? 500)
      .type('text/plain')
      .send('Internal Server Error')
  })
  return app
}

/** Drives the app over a real listening socket (port 0). */
export async function listening(options: BehaviourAppOptions): Promise<BehaviourApp> {
  const server: Server = createServer(buildApp(options))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    fetch: forwardTo(base),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

import type { Server } from 'node:http'
import {
  type ExpressSessionOptions,
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  sessionErrorHandler,
  sessionMiddleware,
  ticketRoute,
} from '@sessionbridge/express'
import express, { type NextFunction, type Request, type Response } from 'express'
import { type ExampleApp, type ExampleAppOptions, sessionOptions, urlOf } from './app.ts'
import { readBody } from './body.ts'
import {
  ADMIN_PERMISSION,
  type ContractContext,
  type ContractReply,
  createContract,
  MAX_BODY_BYTES,
  parseFields,
  REALM,
} from './contract.ts'
import { SECURITY_HEADERS } from './security.ts'

const context = (req: Request): ContractContext => ({
  // The session's data type may be narrowed by augmentation elsewhere; the contract reads plain keys.
  session: req.session as unknown as ContractContext['session'],
  user: () => req.user.get(),
  // The user type may be narrowed by augmentation elsewhere; our users are the stack's own.
  login: (user) => req.login(user as Parameters<Request['login']>[0]),
  logout: () => req.logout(),
  authenticate: (username, password) => req.authenticate(username, password),
  csrfToken: () => req.csrfToken(),
})

const send = (res: Response, answer: ContractReply) => {
  res.status(answer.status)
  if (answer.location) res.setHeader('location', answer.location)
  if (answer.headers) res.set(answer.headers)
  if (answer.type) res.type(answer.type)
  res.send(answer.body ?? '')
}

/** The contract on Express 5, with `@sessionbridge/express`. */
export function createExpressApp(options: ExampleAppOptions): ExampleApp {
  const { stack } = options
  const contract = createContract({
    users: stack.users,
    app: 'Express',
    backend: stack.label,
    links: options.links ?? (() => []),
  })
  // The body is read before the session middleware (below), so its CSRF check sees form fields.
  const fields = (req: Request) =>
    typeof req.body === 'string' ? parseFields(req.get('content-type'), req.body) : null
  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', stack.trustProxy)
  app.use((_req, res, next) => {
    res.set(SECURITY_HEADERS)
    next()
  })
  app.use((req, _res, next) => {
    // `null` for an oversized body: the contract answers 400.
    if (req.method !== 'POST') return next()
    readBody(req, MAX_BODY_BYTES).then((text) => {
      req.body = text
      next()
    }, next)
  })
  app.use(
    sessionMiddleware({
      ...sessionOptions(options),
      users: stack.users as ExpressSessionOptions['users'],
      csrf: stack.csrf,
      throttle: stack.throttle,
    }),
  )
  app.get('/', async (req, res) => {
    const query = new URLSearchParams(req.url.split('?')[1] ?? '')
    send(res, await contract.page(context(req), query))
  })
  app.post('/login', async (req, res) => send(res, await contract.login(context(req), fields(req))))
  app.post('/logout', async (req, res) => send(res, await contract.logout(context(req), fields(req))))
  app.get('/whoami', async (req, res) => send(res, await contract.whoami(context(req))))
  app.post('/counter', async (req, res) => send(res, await contract.counter(context(req), fields(req))))
  app.post('/ticket', ticketRoute(stack.tickets))
  app.get('/feed', loggedInOrBasicAuth({ realm: REALM }), async (req, res) =>
    send(res, contract.feed(await req.user.get())),
  )
  app.get('/admin-feed', permissionOrBasicAuth(ADMIN_PERMISSION, { realm: REALM }), async (req, res) =>
    send(res, contract.adminFeed(await req.user.get())),
  )
  app.use(sessionErrorHandler())
  // No stack traces in bodies, whatever NODE_ENV says.
  app.use((error: { status?: unknown }, _req: Request, res: Response, _next: NextFunction) => {
    const status =
      typeof error?.status === 'number' && error.status >= 400 && error.status < 600 ? error.status : 500
    if (res.headersSent) return void res.destroy()
    res
      .status(status)
      .type('text/plain; charset=utf-8')
      .send(status >= 500 ? 'Internal Server Error' : 'Bad Request')
  })

  let server: Server | null = null
  return {
    name: 'Express',
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const listening = app.listen(port, host)
        listening.once('error', reject)
        listening.once('listening', () => {
          server = listening
          resolve(urlOf(listening.address(), host))
        })
      })
    },
    close() {
      return new Promise((resolve) => {
        if (!server) return resolve()
        server.close(() => resolve())
        server.closeIdleConnections()
      })
    },
  }
}

import { createServer, type Server } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import {
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  type SessionEnv,
  sessionMiddleware,
  ticketRoute,
} from '@sessionbridge/hono'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { type ExampleApp, type ExampleAppOptions, replyHeaders, sessionOptions, urlOf } from './app.ts'
import {
  ADMIN_PERMISSION,
  type ContractContext,
  type ContractReply,
  createContract,
  MAX_BODY_BYTES,
  parseFields,
  REALM,
} from './contract.ts'
import { isValidHostHeader, SECURITY_HEADERS } from './security.ts'

type Env = SessionEnv
type C = Context<Env>

const context = (c: C): ContractContext => ({
  session: c.get('session'),
  user: () => c.get('user').get(),
  login: (user) => c.get('login')(user),
  logout: () => c.get('logout')(),
  authenticate: (username, password) => c.get('authenticate')(username, password),
  csrfToken: () => c.get('csrfToken')(),
})

const send = (c: C, answer: ContractReply) =>
  answer.body === undefined
    ? c.body(null, answer.status as 200, replyHeaders(answer))
    : c.body(answer.body, answer.status as 200, replyHeaders(answer))

/** The contract on Hono, served on Node by `@hono/node-server`, with `@sessionbridge/hono`. */
export function createHonoApp(options: ExampleAppOptions): ExampleApp {
  const { stack } = options
  const contract = createContract({
    users: stack.users,
    app: 'Hono',
    backend: stack.label,
    links: options.links ?? (() => []),
  })
  const fields = async (c: C) => parseFields(c.req.header('content-type'), await c.req.text())
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => c.json({ error: 'request body too large' }, 413),
  })

  const app = new Hono<Env>()
  app.use(async (c, next) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value)
    await next()
    // Responses a middleware built itself (a CSRF 403) did not see c.header(): set them there too.
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      if (!c.res.headers.has(name)) c.res.headers.set(name, value)
    }
  })
  // Limit bodies before the session middleware, whose CSRF check may read a form field.
  app.use((c, next) => (c.req.method === 'POST' ? limit(c, next) : next()))
  app.use(
    sessionMiddleware({
      ...sessionOptions(options),
      trustProxy: stack.trustProxy,
      users: stack.users,
      csrf: stack.csrf,
      throttle: stack.throttle,
    }),
  )
  app.get('/', async (c) => send(c, await contract.page(context(c), new URL(c.req.url).searchParams)))
  app.post('/login', async (c) => send(c, await contract.login(context(c), await fields(c))))
  app.post('/logout', async (c) => send(c, await contract.logout(context(c), await fields(c))))
  app.get('/whoami', async (c) => send(c, await contract.whoami(context(c))))
  app.post('/counter', async (c) => send(c, await contract.counter(context(c), await fields(c))))
  app.post('/ticket', ticketRoute(stack.tickets))
  app.get('/feed', loggedInOrBasicAuth({ realm: REALM }), async (c) =>
    send(c, contract.feed(await c.get('user').get())),
  )
  app.get('/admin-feed', permissionOrBasicAuth(ADMIN_PERMISSION, { realm: REALM }), async (c) =>
    send(c, contract.adminFeed(await c.get('user').get())),
  )

  const listener = getRequestListener(app.fetch)
  let server: Server | null = null
  return {
    name: 'Hono',
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const started = createServer((req, res) => {
          if (isValidHostHeader(req.headers.host)) return void listener(req, res)
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
          res.end('Bad Request: invalid Host header')
        })
        started.once('error', reject)
        started.listen(port, host, () => {
          server = started
          resolve(urlOf(started.address(), host))
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

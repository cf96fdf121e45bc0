import type { Server } from 'node:http'
import {
  type KoaSessionOptions,
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  sessionMiddleware,
  ticketRoute,
} from '@sessionbridge/koa'
import Koa, { type Context, type Middleware } from 'koa'
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

const context = (ctx: Context): ContractContext => ({
  session: ctx.session,
  user: () => ctx.state.user.get(),
  // The user type may be narrowed by augmentation elsewhere; our users are the stack's own.
  login: (user) => ctx.login(user as Parameters<Context['login']>[0]),
  logout: () => ctx.logout(),
  authenticate: (username, password) => ctx.authenticate(username, password),
  csrfToken: () => ctx.csrfToken(),
})

const send = (ctx: Context, answer: ContractReply) => {
  ctx.status = answer.status
  if (answer.location) ctx.set('location', answer.location)
  if (answer.headers) ctx.set(answer.headers)
  if (answer.body !== undefined) {
    ctx.body = answer.body
    if (answer.type) ctx.type = answer.type
  }
}

/** The contract on Koa 3, with `@sessionbridge/koa` (and a route table instead of a router package). */
export function createKoaApp(options: ExampleAppOptions): ExampleApp {
  const { stack } = options
  const contract = createContract({
    users: stack.users,
    app: 'Koa',
    backend: stack.label,
    links: options.links ?? (() => []),
  })
  // The body is read before the session middleware (below), so its CSRF check sees form fields.
  const fields = async (ctx: Context) => {
    const text = (ctx.request as { body?: unknown }).body
    return typeof text === 'string' ? parseFields(ctx.get('content-type'), text) : null
  }
  const routes: Record<string, Middleware[]> = {
    'GET /': [
      async (ctx) => send(ctx, await contract.page(context(ctx), new URLSearchParams(ctx.querystring))),
    ],
    'POST /login': [async (ctx) => send(ctx, await contract.login(context(ctx), await fields(ctx)))],
    'POST /logout': [async (ctx) => send(ctx, await contract.logout(context(ctx), await fields(ctx)))],
    'GET /whoami': [async (ctx) => send(ctx, await contract.whoami(context(ctx)))],
    'POST /counter': [async (ctx) => send(ctx, await contract.counter(context(ctx), await fields(ctx)))],
    'POST /ticket': [ticketRoute(stack.tickets)],
    'GET /feed': [
      loggedInOrBasicAuth({ realm: REALM }),
      async (ctx) => send(ctx, contract.feed(await ctx.state.user.get())),
    ],
    'GET /admin-feed': [
      permissionOrBasicAuth(ADMIN_PERMISSION, { realm: REALM }),
      async (ctx) => send(ctx, contract.adminFeed(await ctx.state.user.get())),
    ],
  }

  const app = new Koa()
  app.proxy = stack.trustProxy
  app.use((ctx, next) => {
    ctx.set(SECURITY_HEADERS)
    return next()
  })
  app.use(async (ctx, next) => {
    // `null` for an oversized body: the contract answers 400.
    if (ctx.method === 'POST')
      (ctx.request as { body?: unknown }).body = await readBody(ctx.req, MAX_BODY_BYTES)
    await next()
  })
  app.use(
    sessionMiddleware({
      ...sessionOptions(options),
      users: stack.users as KoaSessionOptions['users'],
      csrf: stack.csrf,
      throttle: stack.throttle,
    }),
  )
  app.use(async (ctx, next) => {
    const chain = routes[`${ctx.method} ${ctx.path}`]
    if (!chain) return next()
    const run = (i: number): Promise<void> =>
      i < chain.length ? Promise.resolve(chain[i]!(ctx, () => run(i + 1))) : Promise.resolve()
    await run(0)
  })

  let server: Server | null = null
  return {
    name: 'Koa',
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

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BehaviourApp, type BehaviourAppOptions, forwardTo } from '@sessionbridge/core/testing/http'
import Koa, { type Context, type Middleware } from 'koa'
import { inject } from 'light-my-request'
import {
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  realtimeTicket,
  sessionMiddleware,
  ticketRoute,
} from '../src/index.ts'

/** The behaviour suite's routes, on Koa (a tiny router: method + path). */
export function buildApp(options: BehaviourAppOptions): Koa {
  const app = new Koa()
  app.silent = true
  app.proxy = options.trustProxy
  const { realm, permission } = options
  const q = (ctx: Context, name: string) => String(ctx.query[name] ?? '')
  const whoami: Middleware = async (ctx) => {
    ctx.body = { user: (await ctx.state.user)?.username }
  }
  const routes: Record<string, Middleware[]> = {
    'GET /read': [
      async (ctx) => {
        ctx.body = { value: (await ctx.session.get(q(ctx, 'key'))) ?? null }
      },
    ],
    'POST /write': [
      async (ctx) => {
        ctx.session.set(q(ctx, 'key'), q(ctx, 'value'))
        ctx.body = { ok: true }
      },
    ],
    'POST /incr': [
      async (ctx) => {
        const count = (((await ctx.session.get('count')) as number | undefined) ?? 0) + 1
        ctx.session.set('count', count)
        ctx.body = { count }
      },
    ],
    'POST /login': [
      async (ctx) => {
        const user = await options.users.findByLogin(q(ctx, 'username'))
        if (!user) {
          ctx.status = 404
          ctx.body = { ok: false }
          return
        }
        await ctx.login(user)
        ctx.body = { ok: true }
      },
    ],
    'POST /logout': [
      async (ctx) => {
        ctx.logout()
        ctx.body = { ok: true }
      },
    ],
    'GET /whoami': [
      async (ctx) => {
        const first = await ctx.state.user
        const again = await ctx.state.user.get()
        ctx.body = { user: first === again ? (first?.username ?? null) : 'not cached' }
      },
    ],
    'POST /flash': [
      async (ctx) => {
        ctx.session.flash('notice', q(ctx, 'message'))
        ctx.body = { ok: true }
      },
    ],
    'GET /flash': [
      async (ctx) => {
        ctx.body = { message: (await ctx.session.takeFlash('notice')) ?? null }
      },
    ],
    'POST /expiry': [
      async (ctx) => {
        ctx.session.setMaxAge(Number(q(ctx, 'seconds')))
        ctx.body = { ok: true }
      },
    ],
    'GET /private': [loggedInOrBasicAuth({ realm }), whoami],
    'GET /private-login': [loggedInOrBasicAuth({ realm, login: true }), whoami],
    'GET /perm': [permissionOrBasicAuth(permission, { realm }), whoami],
    'POST /ticket': [ticketRoute(options.tickets)],
    'GET /page': [
      realtimeTicket(options.tickets),
      async (ctx) => {
        ctx.body = { ticket: ctx.realtimeTicket }
      },
    ],
    'GET /redirect': [
      async (ctx) => {
        ctx.session.set('redirected', 'yes')
        ctx.redirect('/read?key=redirected')
      },
    ],
    'GET /bad-redirect': [
      async (ctx) => {
        ctx.session.set('redirected', 'yes')
        ctx.status = 302
        ctx.set('Location', '/\u20ac\u0007')
      },
    ],
    'POST /destroy': [
      async (ctx) => {
        ctx.session = null
        ctx.body = { ok: true }
      },
    ],
    'GET /fail': [
      async (ctx) => {
        ctx.session.set('failed', 'yes')
        throw new Error('boom')
      },
    ],
  }
  app.use(sessionMiddleware({ ...options.session, users: options.users }))
  app.use(async (ctx, next) => {
    const chain = routes[`${ctx.method} ${ctx.path}`]
    if (!chain) return next()
    const run = async (i: number): Promise<void> => {
      if (i < chain.length) await chain[i]!(ctx, () => run(i + 1))
    }
    await run(0)
  })
  return app
}

/** Drives `app.callback()` in process, without a socket. */
export async function injected(options: BehaviourAppOptions): Promise<BehaviourApp> {
  const callback = buildApp(options).callback()
  return {
    async fetch(request) {
      const url = new URL(request.url)
      const res = await inject(callback, {
        method: request.method as 'GET' | 'POST',
        url: url.pathname + url.search,
        headers: Object.fromEntries(request.headers),
      })
      const headers = new Headers()
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : [value])
          if (v !== undefined) headers.append(name, String(v))
      }
      return new Response(new Uint8Array(res.rawPayload), { status: res.statusCode, headers })
    },
    close: async () => {},
  }
}

/** Drives the app over a real listening socket (port 0). */
export async function listening(options: BehaviourAppOptions): Promise<BehaviourApp> {
  const server: Server = createServer(buildApp(options).callback())
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

import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { testFrameworkSecurity } from '@sessionbridge/core/testing'
import Koa, { type Context, type Middleware } from 'koa'
import { loggedInOrBasicAuth, sessionMiddleware } from '../src/index.ts'

/** Reads a small urlencoded or JSON body before the session middleware (what a body parser does). */
const readBody: Middleware = async (ctx, next) => {
  if (ctx.method === 'POST') {
    let text = ''
    for await (const chunk of ctx.req) text += chunk
    ;(ctx.request as { body?: unknown }).body = ctx.is('json') ? JSON.parse(text || '{}') : text
  }
  await next()
}

const fields = (ctx: Context): Record<string, string> => {
  const body = (ctx.request as { body?: unknown }).body
  return typeof body === 'string'
    ? Object.fromEntries(new URLSearchParams(body))
    : ((body ?? {}) as Record<string, string>)
}

testFrameworkSecurity({
  name: 'koa',
  async makeApp({ session, users, csrf, throttle }) {
    const app = new Koa()
    app.silent = true
    app.use(readBody)
    app.use(sessionMiddleware({ ...session, users, csrf, throttle }))
    const guard = loggedInOrBasicAuth()
    const routes: Record<string, Middleware> = {
      'GET /token': async (ctx) => {
        ctx.body = { token: await ctx.csrfToken() }
      },
      'POST /login': async (ctx) => {
        const { username = '', password = '' } = fields(ctx)
        const result = await ctx.authenticate(username, password)
        if (result.status === 'throttled') {
          ctx.status = 429
          ctx.set('retry-after', String(result.retryAfterSeconds))
          ctx.body = {}
        } else if (result.status !== 'ok') {
          ctx.status = 401
          ctx.body = {}
        } else {
          await ctx.login(result.user)
          ctx.body = { user: result.user.username }
        }
      },
      'POST /logout': async (ctx) => {
        ctx.logout()
        ctx.body = { ok: true }
      },
      'POST /write': async (ctx) => {
        ctx.session.set('x', 1)
        ctx.body = { ok: true }
      },
      'POST /exempt': async (ctx) => {
        ctx.session.set('x', 1)
        ctx.body = { ok: true }
      },
      'GET /private': (ctx, next) =>
        guard(ctx, async () => {
          ctx.body = { user: (await ctx.state.user)?.username }
          await next()
        }),
    }
    app.use(async (ctx, next) => {
      const route = routes[`${ctx.method} ${ctx.path}`]
      if (route) await route(ctx, next)
    })
    const server = createServer(app.callback())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    }
  },
})

import type { SessionBackend, TicketStore, UserSource } from '@sessionbridge/core'
import { type FastifySessionOptions, sessionPlugin, ticketRoute } from '@sessionbridge/fastify'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { renderRealtimePage } from './page-html.ts'

/** Options of `createPageApp`. */
export interface PageAppOptions {
  /** The session store. */
  backend: SessionBackend
  /** Where users log in. */
  users: UserSource
  /** Where tickets are issued: the same store the websocket server consumes from. */
  tickets: TicketStore
  /** The websocket server's URL, read on every page view. */
  wsUrl: () => string
}

const form = (body: unknown): Record<string, string> =>
  typeof body === 'string' ? Object.fromEntries(new URLSearchParams(body)) : {}

/**
 * The realtime example's web app on Fastify: `GET /` (login form, or the page that asks for a
 * ticket and opens the websocket), `POST /login`, `POST /logout`, `POST /ticket`.
 */
export function createPageApp(options: PageAppOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: 16 * 1024 })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  )
  app.register(sessionPlugin, {
    backend: options.backend,
    // The user type may be narrowed by augmentation elsewhere; these users are the app's own.
    users: options.users as FastifySessionOptions['users'],
  })
  app.register(async (routes) => {
    routes.get('/', async (request: FastifyRequest<{ Querystring: { error?: string } }>, reply) => {
      const user = await request.user.get()
      const html = renderRealtimePage({
        username: user?.username ?? null,
        wsUrl: options.wsUrl(),
        loginFailed: request.query.error !== undefined,
      })
      return reply.type('text/html; charset=utf-8').send(html)
    })
    routes.post('/login', async (request, reply) => {
      const { username = '', password = '' } = form(request.body)
      const found = username ? await options.users.findByLogin(username) : null
      const candidate = found?.isActive ? found : null
      // Always hash, so an unknown user costs what a wrong password costs.
      const valid = await options.users.verifyPassword(candidate, password)
      if (!valid || !candidate) return reply.redirect('/?error=1', 303)
      await request.login(candidate as Parameters<FastifyRequest['login']>[0])
      return reply.redirect('/', 303)
    })
    routes.post('/logout', async (request, reply) => {
      request.logout()
      return reply.redirect('/', 303)
    })
    routes.post('/ticket', ticketRoute(options.tickets))
  })
  return app
}

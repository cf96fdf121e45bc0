import {
  answerTicketRequest,
  type BasicGuardOptions,
  decideBasicGuard,
  type ResolvedBasicGuard,
  realtimeTicketFor,
  resolveBasicGuard,
  resolveTicketRoute,
  type TicketRouteOptions,
  type TicketStore,
} from '@sessionbridge/core'
import type { Context, Middleware, Next } from 'koa'
import { authOf, type KoaSessionUser } from './middleware.ts'

function guardMiddleware(guard: ResolvedBasicGuard): Middleware {
  return async (ctx: Context, next: Next) => {
    const auth = authOf(ctx)
    const decision = await decideBasicGuard(guard, {
      session: auth.session,
      user: auth.user,
      users: auth.requireUsers(),
      authorization: ctx.get('authorization'),
    })
    if (decision.allow) return next()
    ctx.status = decision.status
    ctx.set(decision.headers)
    ctx.type = 'text/plain; charset=utf-8'
    ctx.body = decision.body
  }
}

/**
 * Middleware: any logged-in user passes; otherwise `Authorization: Basic` credentials are checked
 * through `users`; otherwise 401 with a `WWW-Authenticate` challenge.
 */
export function loggedInOrBasicAuth(options: BasicGuardOptions = {}): Middleware {
  return guardMiddleware(resolveBasicGuard(null, options, 'koa'))
}

/** Middleware: like `loggedInOrBasicAuth`, and the user must hold `permission`; 403 without it. */
export function permissionOrBasicAuth(permission: string, options: BasicGuardOptions = {}): Middleware {
  return guardMiddleware(resolveBasicGuard(permission, options, 'koa'))
}

/**
 * Handler for `POST /ticket`: `{"status":"ok","message":"<ticket>"}` for a logged-in user, 401/403
 * JSON otherwise, 503 `{"status":"error",...}` when the store is down. Mount it on your route.
 */
export function ticketRoute(
  store: TicketStore | null,
  options: TicketRouteOptions<KoaSessionUser> = {},
): Middleware {
  const route = resolveTicketRoute(store, options, 'koa')
  return async (ctx: Context) => {
    const auth = authOf(ctx)
    const answer = await answerTicketRequest(route, auth.user, auth.users)
    ctx.status = answer.status
    ctx.body = answer.body
  }
}

/** Middleware that sets `ctx.realtimeTicket` to a fresh ticket (or `null`) before the view runs. */
export function realtimeTicket(
  store: TicketStore | null,
  options: TicketRouteOptions<KoaSessionUser> = {},
): Middleware {
  const route = resolveTicketRoute(store, options, 'koa')
  return async (ctx: Context, next: Next) => {
    const auth = authOf(ctx)
    ctx.realtimeTicket = await realtimeTicketFor(route, auth.user, auth.users)
    return next()
  }
}

import type { BasicGuardOptions, TicketRouteOptions, TicketStore } from '@sessionbridge/core'
import { type ResolvedBasicGuard, resolveBasicGuard, resolveTicketRoute } from '@sessionbridge/core/adapter'
import type { Context, Middleware, Next } from 'koa'
import { type KoaSessionUser, stateOf } from './middleware.ts'

const guardMiddleware =
  (guard: ResolvedBasicGuard): Middleware =>
  async (ctx: Context, next: Next) => {
    const decision = await stateOf(ctx).guard(guard, ctx.get('authorization'), ctx.ip)
    if (decision.allow) return next()
    ctx.status = decision.status
    ctx.set(decision.headers)
    ctx.type = 'text/plain; charset=utf-8'
    ctx.body = decision.body
  }

/** Middleware: a logged-in user, or valid Basic credentials; otherwise 401 (see core's README). */
export const loggedInOrBasicAuth = (options: BasicGuardOptions = {}): Middleware =>
  guardMiddleware(resolveBasicGuard(null, options, 'koa'))

/** Middleware: like `loggedInOrBasicAuth`, and the user must hold `permission`; 403 without it. */
export const permissionOrBasicAuth = (permission: string, options: BasicGuardOptions = {}): Middleware =>
  guardMiddleware(resolveBasicGuard(permission, options, 'koa'))

/** Handler for `POST /ticket`: the seed's JSON answer (see core's README). Mount it on your route. */
export function ticketRoute(
  store: TicketStore | null,
  options: TicketRouteOptions<KoaSessionUser> = {},
): Middleware {
  const route = resolveTicketRoute(store, options, 'koa')
  return async (ctx: Context) => {
    const answer = await stateOf(ctx).ticket(route)
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
    ctx.realtimeTicket = await stateOf(ctx).realtimeTicket(route)
    return next()
  }
}

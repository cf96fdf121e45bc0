import type { AuthUser, BasicGuardOptions, TicketRouteOptions, TicketStore } from '@sessionbridge/core'
import { type ResolvedBasicGuard, resolveBasicGuard, resolveTicketRoute } from '@sessionbridge/core/adapter'
import type { Context, MiddlewareHandler } from 'hono'
import { clientAddressOf, stateOf } from './middleware.ts'

const guardMiddleware =
  (guard: ResolvedBasicGuard): MiddlewareHandler =>
  async (c, next) => {
    const decision = await stateOf(c).guard(guard, c.req.header('authorization'), clientAddressOf(c))
    if (decision.allow) return next()
    return c.text(decision.body, decision.status, decision.headers)
  }

/** Middleware: a logged-in user, or valid Basic credentials; otherwise 401 (see core's README). */
export const loggedInOrBasicAuth = (options: BasicGuardOptions = {}): MiddlewareHandler =>
  guardMiddleware(resolveBasicGuard(null, options, 'hono'))

/** Middleware: like `loggedInOrBasicAuth`, and the user must hold `permission`; 403 without it. */
export const permissionOrBasicAuth = (
  permission: string,
  options: BasicGuardOptions = {},
): MiddlewareHandler => guardMiddleware(resolveBasicGuard(permission, options, 'hono'))

/** Handler for `POST /ticket`: the seed's JSON answer (see core's README). */
export function ticketRoute<User extends AuthUser = AuthUser>(
  store: TicketStore | null,
  options: TicketRouteOptions<User> = {},
) {
  const route = resolveTicketRoute(store, options, 'hono')
  return async (c: Context) => {
    const answer = await stateOf<User>(c).ticket(route)
    return c.json(answer.body, answer.status)
  }
}

/** Middleware that sets `c.get('realtimeTicket')` to a fresh ticket (or `null`) before the view runs. */
export function realtimeTicket<User extends AuthUser = AuthUser>(
  store: TicketStore | null,
  options: TicketRouteOptions<User> = {},
): MiddlewareHandler {
  const route = resolveTicketRoute(store, options, 'hono')
  return async (c, next) => {
    c.set('realtimeTicket', await stateOf<User>(c).realtimeTicket(route))
    return next()
  }
}

import {
  type AuthUser,
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
import type { Context, MiddlewareHandler } from 'hono'
import { authOf } from './middleware.ts'

function guardMiddleware(guard: ResolvedBasicGuard): MiddlewareHandler {
  return async (c, next) => {
    const auth = authOf(c)
    const decision = await decideBasicGuard(guard, {
      session: auth.session,
      user: auth.user,
      users: auth.requireUsers(),
      authorization: c.req.header('authorization'),
    })
    if (decision.allow) return next()
    return c.text(decision.body, decision.status, decision.headers)
  }
}

/**
 * Middleware: any logged-in user passes; otherwise `Authorization: Basic` credentials are checked
 * through `users`; otherwise 401 with a `WWW-Authenticate` challenge.
 */
export function loggedInOrBasicAuth(options: BasicGuardOptions = {}): MiddlewareHandler {
  return guardMiddleware(resolveBasicGuard(null, options, 'hono'))
}

/** Middleware: like `loggedInOrBasicAuth`, and the user must hold `permission`; 403 without it. */
export function permissionOrBasicAuth(
  permission: string,
  options: BasicGuardOptions = {},
): MiddlewareHandler {
  return guardMiddleware(resolveBasicGuard(permission, options, 'hono'))
}

/**
 * Handler for `POST /ticket`: `{"status":"ok","message":"<ticket>"}` for a logged-in user, 401/403
 * JSON otherwise, 503 `{"status":"error",...}` when the store is down.
 */
export function ticketRoute<User extends AuthUser = AuthUser>(
  store: TicketStore | null,
  options: TicketRouteOptions<User> = {},
): (c: Context) => Promise<Response> {
  const route = resolveTicketRoute(store, options, 'hono')
  return async (c) => {
    const auth = authOf<User>(c)
    const answer = await answerTicketRequest(route, auth.user, auth.users)
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
    const auth = authOf<User>(c)
    c.set('realtimeTicket', await realtimeTicketFor(route, auth.user, auth.users))
    await next()
  }
}

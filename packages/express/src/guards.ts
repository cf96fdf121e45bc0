import type { BasicGuardOptions, TicketRouteOptions, TicketStore } from '@sessionbridge/core'
import { type ResolvedBasicGuard, resolveBasicGuard, resolveTicketRoute } from '@sessionbridge/core/adapter'
import type { RequestHandler } from 'express'
import { type ExpressSessionUser, stateOf } from './middleware.ts'

const guard =
  (resolved: ResolvedBasicGuard): RequestHandler =>
  async (req, res, next) => {
    const decision = await stateOf(req).guard(resolved, req.headers.authorization)
    if (decision.allow) return next()
    res.status(decision.status).set(decision.headers).type('text/plain; charset=utf-8').send(decision.body)
  }

/** A logged-in user, or valid Basic credentials; otherwise 401 (see core's README). */
export const loggedInOrBasicAuth = (options: BasicGuardOptions = {}): RequestHandler =>
  guard(resolveBasicGuard(null, options, 'express'))

/** Like `loggedInOrBasicAuth`, and the user must hold `permission`; 403 without it. */
export const permissionOrBasicAuth = (permission: string, options: BasicGuardOptions = {}): RequestHandler =>
  guard(resolveBasicGuard(permission, options, 'express'))

/** Handler for `POST /ticket`: the seed's JSON answer (see core's README). */
export function ticketRoute(
  store: TicketStore | null,
  options: TicketRouteOptions<ExpressSessionUser> = {},
): RequestHandler {
  const route = resolveTicketRoute(store, options, 'express')
  return async (req, res) => {
    const answer = await stateOf(req).ticket(route)
    res.status(answer.status).json(answer.body)
  }
}

/** Middleware that sets `req.realtimeTicket` to a fresh ticket (or `null`) before the view runs. */
export function realtimeTicket(
  store: TicketStore | null,
  options: TicketRouteOptions<ExpressSessionUser> = {},
): RequestHandler {
  const route = resolveTicketRoute(store, options, 'express')
  return async (req, _res, next) => {
    req.realtimeTicket = await stateOf(req).realtimeTicket(route)
    next()
  }
}

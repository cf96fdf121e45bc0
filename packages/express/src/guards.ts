import { type SessionRoutes, sessionRoutes } from '@sessionbridge/core/adapter'
import type { RequestHandler } from 'express'
import { type ExpressSessionUser, stateOf } from './middleware.ts'

type Routes = SessionRoutes<RequestHandler, ExpressSessionUser>
const routes: Routes = sessionRoutes<RequestHandler, ExpressSessionUser>('express', {
  guard: (guard) => async (req, res, next) => {
    const decision = await stateOf(req).guard(guard, req.headers.authorization, req.ip)
    if (decision.allow) return next()
    res.status(decision.status).set(decision.headers).type('text/plain; charset=utf-8').send(decision.body)
  },
  ticket: (route) => async (req, res) => {
    const answer = await stateOf(req).ticket(route)
    res.status(answer.status).json(answer.body)
  },
  realtimeTicket: (route) => async (req, _res, next) => {
    req.realtimeTicket = await stateOf(req).realtimeTicket(route)
    next()
  },
})

/** Middleware: a logged-in user, or valid Basic credentials; otherwise 401 (see core's README). */
export const loggedInOrBasicAuth: Routes['loggedInOrBasicAuth'] = routes.loggedInOrBasicAuth
/** Middleware: like `loggedInOrBasicAuth`, and the user must hold `permission`; 403 without it. */
export const permissionOrBasicAuth: Routes['permissionOrBasicAuth'] = routes.permissionOrBasicAuth
/** Handler for `POST /ticket`: the seed's JSON answer (see core's README). */
export const ticketRoute: Routes['ticketRoute'] = routes.ticketRoute
/** Middleware that sets `req.realtimeTicket` to a fresh ticket (or `null`) before the view runs. */
export const realtimeTicket: Routes['realtimeTicket'] = routes.realtimeTicket

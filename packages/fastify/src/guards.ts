import type { BasicGuardOptions, TicketRouteOptions, TicketStore } from '@sessionbridge/core'
import { type ResolvedBasicGuard, resolveBasicGuard, resolveTicketRoute } from '@sessionbridge/core/adapter'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type FastifySessionUser, requestLogger, stateOf } from './plugin.ts'

/** A `preHandler` hook. */
export type SessionHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>

const guardHook =
  (guard: ResolvedBasicGuard): SessionHook =>
  async (request, reply) => {
    const decision = await stateOf(request).guard(guard, request.headers.authorization, request.ip)
    if (decision.allow) return undefined
    return reply
      .code(decision.status)
      .headers(decision.headers)
      .type('text/plain; charset=utf-8')
      .send(decision.body)
  }

/** `preHandler` hook: a logged-in user, or valid Basic credentials; otherwise 401 (see core's README). */
export const loggedInOrBasicAuth = (options: BasicGuardOptions = {}): SessionHook =>
  guardHook(resolveBasicGuard(null, options, 'fastify'))

/** `preHandler` hook: like `loggedInOrBasicAuth`, and the user must hold `permission`; 403 without it. */
export const permissionOrBasicAuth = (permission: string, options: BasicGuardOptions = {}): SessionHook =>
  guardHook(resolveBasicGuard(permission, options, 'fastify'))

/** Route handler for `POST /ticket`: the seed's JSON answer (see core's README). */
export function ticketRoute(store: TicketStore | null, options: TicketRouteOptions<FastifySessionUser> = {}) {
  const route = resolveTicketRoute(store, options, 'fastify')
  return async (request: FastifyRequest, reply: FastifyReply) => {
    // Store failures go to `request.log` unless the route was given its own logger.
    const logger = options.logger === undefined ? requestLogger(request) : undefined
    const answer = await stateOf(request).ticket(logger ? { ...route, logger } : route)
    return reply.code(answer.status).send(answer.body)
  }
}

/** `preHandler` hook that sets `request.realtimeTicket` to a fresh ticket, or `null`. */
export function realtimeTicket(
  store: TicketStore | null,
  options: TicketRouteOptions<FastifySessionUser> = {},
) {
  const route = resolveTicketRoute(store, options, 'fastify')
  return async (request: FastifyRequest): Promise<void> => {
    const logger = options.logger === undefined ? requestLogger(request) : undefined
    request.realtimeTicket = await stateOf(request).realtimeTicket(logger ? { ...route, logger } : route)
  }
}

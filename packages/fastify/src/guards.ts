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
import type { FastifyReply, FastifyRequest } from 'fastify'
import { authOf, type FastifySessionUser } from './plugin.ts'

/** A `preHandler` hook. */
export type SessionHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>

function guardHook(guard: ResolvedBasicGuard): SessionHook {
  return async (request, reply) => {
    const auth = authOf(request)
    const decision = await decideBasicGuard(guard, {
      session: auth.session,
      user: auth.user,
      users: auth.requireUsers(),
      authorization: request.headers.authorization,
    })
    if (decision.allow) return undefined
    return reply
      .code(decision.status)
      .headers(decision.headers)
      .type('text/plain; charset=utf-8')
      .send(decision.body)
  }
}

/**
 * `preHandler` hook: any logged-in user passes; otherwise `Authorization: Basic` credentials are
 * checked through `users`; otherwise 401 with a `WWW-Authenticate` challenge.
 */
export function loggedInOrBasicAuth(options: BasicGuardOptions = {}): SessionHook {
  return guardHook(resolveBasicGuard(null, options, 'fastify'))
}

/**
 * `preHandler` hook: like `loggedInOrBasicAuth`, and the user must hold `permission`
 * (`app_label.codename`); a user without it gets 403.
 */
export function permissionOrBasicAuth(permission: string, options: BasicGuardOptions = {}): SessionHook {
  return guardHook(resolveBasicGuard(permission, options, 'fastify'))
}

/**
 * Route handler for `POST /ticket`: `{"status":"ok","message":"<ticket>"}` for a logged-in user,
 * 401/403 JSON otherwise, 503 `{"status":"error",...}` when the store is down.
 */
export function ticketRoute(store: TicketStore | null, options: TicketRouteOptions<FastifySessionUser> = {}) {
  const route = resolveTicketRoute(store, options, 'fastify')
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = authOf(request)
    const answer = await answerTicketRequest(route, auth.user, auth.users)
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
    const auth = authOf(request)
    request.realtimeTicket = await realtimeTicketFor(route, auth.user, auth.users)
  }
}

import type { LazyUser } from './auth.ts'
import { SessionConfigError } from './errors.ts'
import type { SessionLogger } from './options.ts'
import { DEFAULT_TICKET_TTL_MS, type TicketPayload, type TicketStore } from './tickets.ts'
import type { AuthUser, UserSource } from './users.ts'

/** Options of the ticket route and the per-view ticket middleware in every framework. */
export interface TicketRouteOptions<User extends AuthUser = AuthUser> {
  /** Ticket lifetime in milliseconds. @default 10000 */
  ttlMs?: number
  /** A permission the user must hold (`app_label.codename`); `null` for any logged-in user. @default null */
  permission?: string | null
  /** Extra payload fields next to `userId` and `username`. @default none */
  payload?: (user: User) => Record<string, unknown> | Promise<Record<string, unknown>>
  /** Where store failures are reported by the per-view middleware. @default console */
  logger?: SessionLogger
}

export interface ResolvedTicketRoute<User extends AuthUser = AuthUser> {
  store: TicketStore | null
  ttlMs: number
  permission: string | null
  payload: ((user: User) => Record<string, unknown> | Promise<Record<string, unknown>>) | null
  logger: SessionLogger
}

/** The JSON body of the ticket route: the seed's shape. */
export interface TicketResponseBody {
  status: 'ok' | 'error'
  message: string
}

/** What the ticket route answers. */
export interface TicketAnswer {
  status: 200 | 401 | 403 | 503
  body: TicketResponseBody
}

/** Validates ticket options once, at startup. */
export function resolveTicketRoute<User extends AuthUser>(
  store: TicketStore | null | undefined,
  options: TicketRouteOptions<User> = {},
  pkg = 'core',
): ResolvedTicketRoute<User> {
  if (store != null && (typeof store.issue !== 'function' || typeof store.consume !== 'function')) {
    throw new SessionConfigError(pkg, 'store', '%s must be a TicketStore (issue and consume)')
  }
  const ttlMs = options.ttlMs ?? DEFAULT_TICKET_TTL_MS
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) {
    throw new SessionConfigError(pkg, 'ttlMs', '%s must be a positive whole number of milliseconds')
  }
  const permission = options.permission ?? null
  if (permission !== null && (typeof permission !== 'string' || permission === '')) {
    throw new SessionConfigError(pkg, 'permission', '%s must be a non-empty string like "app.codename"')
  }
  return Object.freeze({
    store: store ?? null,
    ttlMs,
    permission,
    payload: options.payload ?? null,
    logger: options.logger ?? console,
  })
}

async function issueFor<User extends AuthUser>(
  route: ResolvedTicketRoute<User>,
  store: TicketStore,
  user: User,
) {
  const extra = route.payload ? await route.payload(user) : {}
  const payload: TicketPayload = { ...extra, userId: String(user.id), username: user.username }
  return store.issue(payload, route.ttlMs)
}

async function allowed<User extends AuthUser>(
  route: ResolvedTicketRoute<User>,
  user: User,
  users: UserSource<User> | null,
): Promise<boolean> {
  if (route.permission === null) return true
  return users !== null && (await users.hasPerm(user, route.permission))
}

/**
 * The `POST /ticket` answer: `{"status":"ok","message":"<ticket>"}` for a logged-in user, 401 for
 * anonymous, 403 without the permission, 503 `{"status":"error"}` when the store is down (or
 * missing). Errors loading the user itself propagate (a session backend error is a 503 too).
 */
export async function answerTicketRequest<User extends AuthUser>(
  route: ResolvedTicketRoute<User>,
  lazyUser: LazyUser<User>,
  users: UserSource<User> | null,
): Promise<TicketAnswer> {
  const user = await lazyUser.get()
  if (!user) return { status: 401, body: { status: 'error', message: 'authentication required' } }
  if (!(await allowed(route, user, users))) {
    return { status: 403, body: { status: 'error', message: 'permission denied' } }
  }
  if (!route.store) return { status: 503, body: { status: 'error', message: 'ticket store unavailable' } }
  try {
    return { status: 200, body: { status: 'ok', message: await issueFor(route, route.store, user) } }
  } catch (error) {
    route.logger.warn(
      `[sessionbridge/tickets] ${route.store.name} issue failed: ${(error as Error)?.message}`,
    )
    return { status: 503, body: { status: 'error', message: 'ticket store unavailable' } }
  }
}

/**
 * A fresh ticket for the request's user, for pages that open a realtime connection (the seed's
 * `realtime_ticket`): `null` when there is no user, no permission, no store, or the store is down.
 */
export async function realtimeTicketFor<User extends AuthUser>(
  route: ResolvedTicketRoute<User>,
  lazyUser: LazyUser<User>,
  users: UserSource<User> | null,
): Promise<string | null> {
  if (!route.store) return null
  const answer = await answerTicketRequest(route, lazyUser, users)
  return answer.status === 200 ? answer.body.message : null
}

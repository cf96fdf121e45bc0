// What holds one request's session state, under the middleware (on the context) and under
// `sessionFetch` (on the request), and what a handler uses through it.
import type { AuthenticateResult, AuthUser, LazyUser, Session, SessionData } from '@sessionbridge/core'
import type { RequestSession } from '@sessionbridge/core/adapter'
import type { Binding } from './binding.ts'

/** A request's session, its user and the auth steps: `sessionOf(c)`, or `c.get(...)` under the middleware. */
export interface SessionAccess<Data extends SessionData = SessionData, User extends AuthUser = AuthUser> {
  /** This request's session; loads on first read, commits after the app answered. */
  readonly session: Session<Data>
  /** The logged-in user, loaded on first `await` (or `.get()`), once per request. */
  readonly user: LazyUser<User>
  /** Logs `user` in: new session id, Django's auth keys. */
  login(user: User): Promise<void>
  /** Logs out: the session is deleted and its cookie cleared. */
  logout(): void
  /**
   * Checks credentials through the `throttle` and `users` (Django's `authenticate`; the client
   * address from `clientAddress`): `ok` with the user, `invalid`, or `throttled` (answer 429).
   */
  authenticate(username: string, password: string): Promise<AuthenticateResult<User>>
  /** A CSRF token for a form or a header; sends the `csrftoken` cookie (needs the `csrf` option). */
  csrfToken(): Promise<string>
}

/**
 * What holds one request's state (the middleware's slot on the context, `sessionFetch`'s on the
 * request). Two classes of their own, not a subclass of one: the slot is made on every request,
 * and a derived class's construction (not inlined) and its getters one prototype further cost
 * Hono's Redis read about 800 instructions (`bench/src/http-instructions.ts`).
 */
export interface SessionHolder {
  readonly binding: Binding
  /** The request's state, opened on first use. */
  open(): RequestSession
  /** A request header, lower-case name. */
  header(name: string): string | undefined
  /** The configured client address (the throttle's per-address rule, the Basic guards). */
  clientAddress(): string | null | undefined
  /** What `sessionOf` gave for this request, once asked. */
  access: SessionAccess | null
}

/** A holder's access, made on the first `sessionOf` of its request. */
export function accessOf(holder: SessionHolder): SessionAccess {
  holder.access ??= new HolderAccess(holder)
  return holder.access
}

class HolderAccess implements SessionAccess {
  readonly #holder: SessionHolder
  constructor(holder: SessionHolder) {
    this.#holder = holder
  }
  get session(): Session {
    return this.#holder.open().session
  }
  get user(): LazyUser<AuthUser> {
    return this.#holder.open().user
  }
  login(user: AuthUser): Promise<void> {
    return this.#holder.open().login(user)
  }
  logout(): void {
    this.#holder.open().logout()
  }
  authenticate(username: string, password: string): Promise<AuthenticateResult<AuthUser>> {
    return this.#holder.open().authenticate({ username, password }, this.#holder.clientAddress())
  }
  csrfToken(): Promise<string> {
    return this.#holder.open().csrfToken(this.#holder.header('cookie'))
  }
}

// What holds one request's session state, under the middleware (on the context) and under
// `sessionFetch` (on the request), and what a handler uses through it.
import type { AuthenticateResult, AuthUser, LazyUser, Session, SessionData } from '@sessionbridge/core'
import type { RequestSession } from '@sessionbridge/core/adapter'
import type { Context } from 'hono'
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

/** One request's holder: its state, opened on first use, and the access a handler gets. */
export abstract class SessionHolder implements SessionAccess {
  binding: Binding
  state: RequestSession | null
  constructor(binding: Binding, state: RequestSession | null) {
    this.binding = binding
    this.state = state
  }
  /** Whether the request came over HTTPS: the session asks when it writes a cookie (no closure a request). */
  abstract get secure(): boolean
  /** A request header, lower-case name. */
  abstract header(name: string): string | undefined
  /** The context the request runs in, for the `clientAddress` option; `null` before Hono made one. */
  abstract readonly context: Context | null

  /** The request's state, opened on first use. */
  open(cookie?: string): RequestSession {
    this.state ??= this.binding.driver.open(cookie, this)
    return this.state
  }
  get session(): Session {
    return this.open().session
  }
  get user(): LazyUser<AuthUser> {
    return this.open().user
  }
  login(user: AuthUser): Promise<void> {
    return this.open().login(user)
  }
  logout(): void {
    this.open().logout()
  }
  authenticate(username: string, password: string): Promise<AuthenticateResult<AuthUser>> {
    return this.open().authenticate({ username, password }, this.clientAddress())
  }
  csrfToken(): Promise<string> {
    return this.open().csrfToken(this.header('cookie'))
  }
  /** The configured client address (the throttle's per-address rule, the Basic guards). */
  clientAddress(): string | null | undefined {
    const c = this.context
    return c === null ? null : this.binding.clientAddress(c)
  }
}

import { type SessionAdopter, sessionAdoption } from './adoption.ts'
import { checkUserSource, LazyUser, login as loginUser, logout as logoutSession } from './auth.ts'
import { type AuthenticateResult, authenticate } from './authenticate.ts'
import { decideBasicGuard, type GuardDecision, type ResolvedBasicGuard } from './basic-auth.ts'
import { type CsrfExtension, type CsrfExtensionOptions, csrfExtension } from './csrf-extension.ts'
import { missingOption, SessionConfigError } from './errors.ts'
import { askHttps, type HttpsAnswer } from './https-answer.ts'
import { createSessionManager, type SessionManager } from './manager.ts'
import type { SessionLogger, SessionManagerOptions } from './options.ts'
import { type CommitResult, commitShaped, type Session } from './session.ts'
import type { LoginThrottle } from './throttle.ts'
import {
  answerTicketRequest,
  type ResolvedTicketRoute,
  realtimeTicketFor,
  type TicketAnswer,
} from './ticket-route.ts'
import type { TicketStore } from './tickets.ts'
import { boundedCall } from './timeout.ts'
import type { SessionData } from './types.ts'
import type { AuthUser, UserSource } from './users.ts'

/** Options every framework package accepts: the session options plus users and tickets. */
export interface SessionDriverOptions<User extends AuthUser = AuthUser> extends SessionManagerOptions {
  /** Where the request's user, `login()` and the Basic guards find users. @default undefined (no users) */
  users?: UserSource<User>
  /**
   * The ticket store whose unconsumed tickets `logout()` revokes (when it can index them by user,
   * see `TicketStore.revokeUser`). Pass the store your ticket route uses. @default undefined
   */
  tickets?: TicketStore
  /**
   * Sessions of the library you are switching from, adopted on each user's first request (see
   * `@sessionbridge/adopt`): their data and user carried over, the old record deleted, the old
   * cookies cleared. @default [] (nothing adopted)
   */
  adopt?: readonly SessionAdopter[]
  /**
   * Django-compatible CSRF protection (see core's README, "Security"): unsafe methods need the
   * `csrftoken` cookie's token in `X-CSRFToken` or the `csrfmiddlewaretoken` field; the token
   * rotates at login and logout. `false` or absent: no check. @default undefined (off)
   */
  csrf?: CsrfExtensionOptions | false
  /**
   * Login attempt limits (`loginThrottle(...)`) for `authenticate()` and the Basic guards: over a
   * limit, 429 with `Retry-After` and no password hash. @default undefined (unlimited)
   */
  throttle?: LoginThrottle
}

/** What a request extension's `check` sees before the route handler runs. */
export interface RequestCheckInput {
  method: string
  /** The request path, without the query. */
  path?: string
  /** A request header, lower-case name. */
  header(name: string): string | undefined
  /** A field of a parsed form body, when the framework has one. */
  formField(name: string): string | undefined | Promise<string | undefined>
}

/** An answer that ends the request before its handler (e.g. a CSRF failure: 403). */
export interface ExtensionAnswer {
  status: number
  headers?: Record<string, string>
  body: string
}

/**
 * A per-request extension that every framework adapter runs (CSRF protection plugs in here): a check
 * before the handler, a hook at login and logout (token rotation), and extra cookies at the end.
 */
export interface RequestExtension {
  readonly name: string
  /** Before the route handler: `null` lets the request through, an answer ends it. */
  check?(
    request: RequestSession,
    input: RequestCheckInput,
  ): ExtensionAnswer | null | Promise<ExtensionAnswer | null>
  /** After `login()` or `logout()` changed the session. */
  onAuthChange?(request: RequestSession, event: 'login' | 'logout'): void | Promise<void>
  /** `Set-Cookie` values to add when the request ends. */
  setCookies?(request: RequestSession): readonly string[] | Promise<readonly string[]>
}

/** Who drives the session: the adapter's facts, resolved once at startup. */
export interface SessionDriverMeta {
  /** The package named in configuration errors, e.g. `koa`. */
  package: string
  /**
   * The framework decides whether a request is HTTPS through its own proxy trust (Fastify
   * `trustProxy`, Koa `app.proxy`, Express `trust proxy`): the session's `trustProxy` option is then
   * refused, so there is one source of truth. `false` (Hono) keeps the option.
   */
  frameworkProxyTrust: boolean
  extensions?: readonly RequestExtension[]
}

/**
 * `finish()`'s answer without cookies (most writes): an empty array with an own `then` of
 * `undefined`. A promise resolved with an object looks `then` up on it, and on an array the search
 * ends only past `Array.prototype` and `Object.prototype` (about 300 instructions an increment);
 * found on the array itself, `undefined`, it fulfils the promise at once, as without it.
 */
const NO_COOKIES: readonly string[] = Object.freeze(Object.defineProperty([], 'then', { value: undefined }))
const cookiesOf = (result: CommitResult): readonly string[] =>
  result.setCookie ? [result.setCookie] : NO_COOKIES

/**
 * The per-request engine behind every framework package, made once per app: opens a
 * `RequestSession` from the request's facts, and holds what all requests share.
 */
export class SessionDriver<User extends AuthUser = AuthUser, Data extends SessionData = SessionData> {
  readonly manager: SessionManager<Data>
  readonly users: UserSource<User> | null
  readonly tickets: TicketStore | null
  readonly package: string
  readonly extensions: readonly RequestExtension[]
  /** Some extension checks requests before their handler. */
  readonly checks: boolean
  /** The CSRF extension, when the `csrf` option is on. */
  readonly csrf: CsrfExtension | null
  readonly throttle: LoginThrottle | null

  constructor(options: SessionDriverOptions<User>, meta: SessionDriverMeta) {
    const { users, tickets, adopt, csrf, throttle, ...sessionOptions } =
      options ?? ({} as SessionDriverOptions<User>)
    if (meta.frameworkProxyTrust && sessionOptions.trustProxy !== undefined) {
      throw new SessionConfigError(
        meta.package,
        'trustProxy',
        "%s is not used here: HTTPS is decided by the framework's own proxy setting",
      )
    }
    this.package = meta.package
    this.manager = createSessionManager<Data>(sessionOptions as SessionManagerOptions, {
      package: meta.package,
    })
    this.users = checkUserSource(users, meta.package)
    if (tickets != null && typeof tickets.issue !== 'function') {
      throw new SessionConfigError(meta.package, 'tickets', '%s must be a TicketStore')
    }
    this.tickets = tickets ?? null
    if (
      adopt !== undefined &&
      (!Array.isArray(adopt) || !adopt.every((a) => typeof a?.read === 'function'))
    ) {
      throw new SessionConfigError(meta.package, 'adopt', '%s must be a list of session adopters')
    }
    const adoption = adopt?.length ? [sessionAdoption(adopt)] : []
    if (csrf !== undefined && csrf !== false && (csrf === null || typeof csrf !== 'object')) {
      throw new SessionConfigError(meta.package, 'csrf', '%s must be an options object or false')
    }
    this.csrf = csrf ? csrfExtension(csrf, meta.package) : null
    if (throttle != null && typeof throttle.attempt !== 'function') {
      throw new SessionConfigError(
        meta.package,
        'throttle',
        '%s must be a LoginThrottle (loginThrottle(...))',
      )
    }
    this.throttle = throttle ?? null
    this.extensions = Object.freeze([
      ...adoption,
      ...(meta.extensions ?? []),
      ...(this.csrf ? [this.csrf] : []),
    ])
    this.checks = this.extensions.some((e) => typeof e.check === 'function')
  }

  /**
   * Opens one request's state. Synchronous and cheap: nothing else is made until first use.
   * `logger` is the framework's logger of this request (Fastify's `request.log`): the warnings of
   * this request go there instead of to the `logger` option.
   */
  open(
    cookieHeader: string | null | undefined,
    secure: HttpsAnswer,
    logger?: SessionLogger,
  ): RequestSession<User, Data> {
    return new RequestSession(this, cookieHeader, secure, logger)
  }
}

/**
 * One request's session state: the lazy session, the lazy user, login and logout, the guards and
 * the ticket route, and the end of the request (`finish()`: the `Set-Cookie` values). Made by
 * `SessionDriver.open()`; a request that never uses it costs this one object.
 */
export class RequestSession<User extends AuthUser = AuthUser, Data extends SessionData = SessionData> {
  readonly driver: SessionDriver<User, Data>
  #cookieHeader: string | null | undefined
  #secure: HttpsAnswer
  #ownLogger: SessionLogger | undefined
  #session: Session<Data> | null = null
  #user: LazyUser<User> | null = null
  #revoke: Promise<string | null> | null = null
  #finished = false
  /** Per-request data of extensions (e.g. the CSRF token), keyed by extension name. */
  extensionData: Record<string, unknown> | null = null

  constructor(
    driver: SessionDriver<User, Data>,
    cookieHeader: string | null | undefined,
    secure: HttpsAnswer,
    logger?: SessionLogger,
  ) {
    this.driver = driver
    this.#cookieHeader = cookieHeader
    this.#secure = secure
    this.#ownLogger = logger
  }

  /** Where this request's warnings go: the framework's request logger, else the `logger` option. */
  get logger(): SessionLogger {
    return this.#ownLogger ?? this.driver.manager.options.logger
  }

  /**
   * Reads the session cookie. `undefined` when that is done already (no cookie, or an unsigned one);
   * a promise when a signature must be verified first. Call it before the handler.
   */
  start(): Promise<void> | undefined {
    if (this.#session !== null) return undefined
    // One search of the header: the adapter asked `mayCarrySession` before it opened this state.
    const opened = this.driver.manager.openPresent(this.#cookieHeader, this.#httpsAnswer(), this.#ownLogger)
    if (opened === null) return undefined
    if (!(opened instanceof Promise)) {
      this.#session = opened
      return undefined
    }
    return opened.then((session) => {
      this.#session ??= session
    })
  }

  /** The request came over HTTPS (as the adapter decided). */
  get secure(): boolean {
    const secure = this.#secure
    if (typeof secure === 'boolean') return secure
    const answer = askHttps(secure)
    this.#secure = answer
    return answer
  }

  /** What the session asks: this state, which asks the framework once for the whole request. */
  #httpsAnswer(): HttpsAnswer {
    return typeof this.#secure === 'boolean' ? this.#secure : this
  }

  /** This request's session (an empty new one when the request carried no usable cookie). */
  get session(): Session<Data> {
    if (this.#session === null) {
      const { manager } = this.driver
      const cookie = this.#cookieHeader
      const opened = manager.mayCarrySession(cookie)
        ? manager.openCookie(cookie, this.#httpsAnswer(), this.#ownLogger)
        : manager.openWithoutCookie({ protocol: this.secure ? 'https' : 'http' }, this.#ownLogger)
      if (opened instanceof Promise) {
        opened.catch(() => {}) // never left unhandled; the adapter's bug is reported below
        throw new Error(`[sessionbridge/${this.driver.package}] await start() before using a signed session`)
      }
      this.#session = opened
    }
    return this.#session
  }

  /** The logged-in user, loaded on first `await` (or `.get()`), once per request. */
  get user(): LazyUser<User> {
    this.#user ??= new LazyUser<User>(this.session as unknown as Session<SessionData>, this.driver.users)
    return this.#user
  }

  get users(): UserSource<User> | null {
    return this.driver.users
  }

  /** The configured user source; `SessionConfigError` naming the `users` option when there is none. */
  requireUsers(): UserSource<User> {
    if (!this.driver.users) throw missingOption(this.driver.package, 'users')
    return this.driver.users
  }

  /** Logs `user` in (Django's algorithm: new session id, Django's auth keys). */
  async login(user: User): Promise<void> {
    await loginUser(this.session, user, this.requireUsers())
    this.user.set(user)
    await this.#authChanged('login')
  }

  /** Logs out: the session is deleted at the end of the request, its cookie cleared, its tickets revoked. */
  logout(): void {
    const session = this.session
    if (this.driver.tickets?.revokeUser) this.#revoke = this.#loggedOutUserId()
    logoutSession(session)
    this.user.set(null)
    void this.#authChanged('logout')
  }

  /** Runs the extensions' checks: `null` lets the request through. */
  async check(input: RequestCheckInput): Promise<ExtensionAnswer | null> {
    for (const extension of this.driver.extensions) {
      const answer = await extension.check?.(this as unknown as RequestSession, input)
      if (answer) return answer
    }
    return null
  }

  /** A Basic guard's decision for this request; `address` feeds the throttle's per-address rule. */
  guard(
    guard: ResolvedBasicGuard,
    authorization: string | null | undefined,
    address?: string | null,
  ): Promise<GuardDecision<User>> {
    const throttled =
      guard.throttle || !this.driver.throttle ? guard : { ...guard, throttle: this.driver.throttle }
    return decideBasicGuard(throttled, {
      session: this.session,
      user: this.user,
      users: this.requireUsers(),
      authorization,
      address,
    })
  }

  /**
   * Checks a username (or email) and password through the throttle and the user source, Django's
   * `authenticate`: `ok` with the user, `invalid`, or `throttled` (answer 429 with `Retry-After`).
   * Does not log in: call `login(user)` on `ok`.
   */
  authenticate(
    credentials: { username: string; password: string },
    address?: string | null,
  ): Promise<AuthenticateResult<User>> {
    return authenticate(this.requireUsers(), credentials, { throttle: this.driver.throttle, address })
  }

  /** Django's `get_token` for this request (the `csrf` option must be on); the cookie is (re)sent. */
  csrfToken(cookieHeader: string | null | undefined): Promise<string> {
    const csrf = this.driver.csrf
    if (!csrf) throw missingOption(this.driver.package, 'csrf')
    return csrf.token(this as unknown as RequestSession, cookieHeader)
  }

  /** The ticket route's answer for this request's user. */
  ticket(route: ResolvedTicketRoute<User>): Promise<TicketAnswer> {
    return answerTicketRequest(route, this.user, this.driver.users)
  }

  /** A fresh realtime ticket for this request's user, or `null`. */
  realtimeTicket(route: ResolvedTicketRoute<User>): Promise<string | null> {
    return realtimeTicketFor(route, this.user, this.driver.users)
  }

  /** Nothing was used: `finish()` would do nothing, so an adapter may skip it. */
  get untouched(): boolean {
    return (
      (this.#session === null || this.#session.untouched) &&
      this.#revoke === null &&
      this.extensionData === null
    )
  }

  /**
   * `finish()` would call no backend and send no cookie: `untouched`, or the session was only read
   * (see `Session.settled`). Adapters check this instead of `untouched` to skip `finish()` without
   * a promise on the common read.
   */
  get settled(): boolean {
    return (
      this.#finished ||
      ((this.#session === null || this.#session.settled) &&
        this.#revoke === null &&
        this.extensionData === null)
    )
  }

  /**
   * Ends the request: commits the session and returns the `Set-Cookie` values to send. Throws only
   * `SessionError`s (a backend failure: `SessionBackendError`; see `sessionErrorAnswer`).
   */
  finish(): Promise<readonly string[]> {
    if (this.#finished || this.untouched) return Promise.resolve(NO_COOKIES)
    this.#finished = true
    // The common end: the commit's own promise, its cookies taken in the backend call's reaction
    // (no `.then` of their own).
    if (this.#commonEnd()) return commitShaped(this.#session as unknown as Session, cookiesOf)
    return this.#finishAll()
  }

  /**
   * `finish().then(then, otherwise)` as one promise: on the common end `then` (or `otherwise`, with
   * the commit's failure: `SessionBackendError`, `SessionTimeoutError`) runs in the commit's own
   * reaction (a promise and a reaction fewer). For an adapter that hands the framework a promise of
   * what comes after the cookies (Fastify's `onSend` payload, Hono's middleware); what `then` or
   * `otherwise` throws rejects the promise.
   */
  finishThen<T>(
    then: (cookies: readonly string[]) => T | PromiseLike<T>,
    otherwise?: (error: unknown) => T | PromiseLike<T>,
  ): Promise<T> {
    if (this.#finished || this.untouched || !this.#commonEnd()) return this.finish().then(then, otherwise)
    this.#finished = true
    return commitShaped<T | PromiseLike<T>>(
      this.#session as unknown as Session,
      (result) => then(cookiesOf(result)),
      otherwise,
    ) as Promise<T>
  }

  /** A session to commit, no tickets to revoke, no extension: the commit alone ends the request. */
  #commonEnd(): boolean {
    return this.#revoke === null && this.#session !== null && this.driver.extensions.length === 0
  }

  async #finishAll(): Promise<readonly string[]> {
    if (this.#revoke !== null) await this.#revokeTickets()
    const result = this.#session === null ? null : await this.#session.commit()
    let cookies = result === null ? NO_COOKIES : cookiesOf(result)
    for (const extension of this.driver.extensions) {
      const extra = await extension.setCookies?.(this as unknown as RequestSession)
      if (extra?.length) cookies = [...cookies, ...extra]
    }
    return cookies
  }

  async #authChanged(event: 'login' | 'logout'): Promise<void> {
    for (const extension of this.driver.extensions)
      await extension.onAuthChange?.(this as unknown as RequestSession, event)
  }

  /**
   * Who is logging out, for ticket revocation: the loaded user if there is one, else the stored
   * record's user (one read, made now, before `destroy()` forgets the data). Never rejects.
   */
  #loggedOutUserId(): Promise<string | null> {
    const { backend, options } = this.driver.manager
    const id = this.session.id
    const known = this.#user?.loaded ? this.#user.get().then((user) => (user ? String(user.id) : null)) : null
    const stored =
      known ??
      (id === null
        ? Promise.resolve(null)
        : boundedCall(backend.name, 'load', options.timeout, () => backend.load(id)).then((record) => {
            const userId = record?.userId ?? record?.data[options.userIdKey]
            return typeof userId === 'string' || typeof userId === 'number' ? String(userId) : null
          }))
    return stored.catch((error: unknown) => {
      this.#warn('reading the user at logout', error)
      return null
    })
  }

  /** Logout revokes the user's unconsumed tickets; a failure is logged, never fatal (they expire soon). */
  async #revokeTickets(): Promise<void> {
    const pending = this.#revoke
    const store = this.driver.tickets
    this.#revoke = null
    const userId = pending ? await pending : null
    if (userId === null || !store?.revokeUser) return
    try {
      await boundedCall(store.name, 'revokeUser', this.driver.manager.options.timeout, () =>
        store.revokeUser!(userId),
      )
    } catch (error) {
      this.#warn('revoking tickets at logout', error)
    }
  }

  #warn(what: string, error: unknown): void {
    this.logger.warn(
      `[sessionbridge/${this.driver.package}] ${what} failed: ${(error as Error)?.message ?? String(error)}`,
    )
  }
}

// The glue every framework adapter repeats around the driver: where a request keeps its state,
// the request members (as shared descriptors), a form field from a parsed body, the guard and
// ticket factories.
import { type BasicGuardOptions, type ResolvedBasicGuard, resolveBasicGuard } from './basic-auth.ts'
import type { ExtensionAnswer, RequestCheckInput, RequestSession, SessionDriver } from './request.ts'
import { type ResolvedTicketRoute, resolveTicketRoute, type TicketRouteOptions } from './ticket-route.ts'
import type { TicketStore } from './tickets.ts'
import type { SessionData } from './types.ts'
import type { AuthUser } from './users.ts'

/** What a request keeps: the driver that opens its state, the state once opened, an adapter's own value. */
interface SlotEntry<User extends AuthUser, Data extends SessionData> {
  driver: SessionDriver<User, Data>
  state: RequestSession<User, Data> | null
  handle: unknown
  /** On a `home` (a prototype), shared by its requests: never written through a request. */
  readonly shared: boolean
}

/**
 * Where a request keeps its `RequestSession`: an entry under a symbol of the slot's own on the
 * request object. A `WeakMap` keyed by requests (as before) looked cheaper in a loop, but under
 * load every live request in it is an ephemeron the young-generation GC must trace and keep:
 * measured on Express 5 in one process, a request without cookie cost 18 - 23 µs more than an empty
 * middleware (9 - 10 with the property), a third of it in the scavenger. A request without a
 * session cookie gets its state on first use, so one that never touches the session makes none.
 *
 * An adapter may name a `home`: an object every request it attaches inherits from for the rest of
 * the request (Express: the root app's request prototype). A request without a session cookie
 * then writes nothing on itself: the home's entry names the driver, and the request gets an entry
 * of its own on first use. Any request inheriting the home counts as attached then (a route
 * mounted before the middleware too), so a driver with checks (CSRF) never uses one. Adding a
 * property to an object whose hidden class is its own costs V8 a copy of that class: Express gives
 * every request one (`setPrototypeOf`), and the entry cost a request without cookie about 25,000
 * instructions, 4% of Express's own (`bench/src/http-instructions.ts`). For the same reason the
 * entry is read with `Reflect.get`: a property access found on a prototype of such a request
 * misses V8's inline cache and goes to the runtime (1,400 - 3,800 instructions), `Reflect.get`
 * walks the chain in a builtin (200 - 450).
 */
export class RequestSlot<
  Target extends object,
  User extends AuthUser = AuthUser,
  Data extends SessionData = SessionData,
> {
  readonly #package: string
  readonly #secure: (target: Target) => boolean
  readonly #key = Symbol('sessionbridge.slot')

  /** `secure` says whether the request came over HTTPS, as the framework decides it. */
  constructor(pkg: string, secure: (target: Target) => boolean) {
    this.#package = pkg
    this.#secure = secure
  }

  /**
   * Attaches `driver` (and the adapter's own `handle`, e.g. Express's `next`) to the request. With
   * a cookie that may carry a session, the state opens now and the returned promise (when there is
   * one) verifies its signature: await it before the handler. A second attach (a second middleware
   * on the same request) keeps a state the first opened unless the cookie opens a new one. `home`:
   * see the class; without a session cookie, a request inheriting a home that names this driver
   * (or none yet) gets no entry until first use, and no `handle` then.
   */
  attach(
    target: Target,
    driver: SessionDriver<User, Data>,
    cookieHeader: string | null | undefined,
    handle?: unknown,
    home?: object,
  ): Promise<void> | undefined {
    const carries = driver.manager.mayCarrySession(cookieHeader)
    let entry = this.#entry(target)
    // No home for a driver with checks (CSRF): a route mounted before the middleware would find the
    // home's entry and use the session without the checks having run.
    const homeless = home === undefined || driver.checks || (entry !== undefined && !entry.shared)
    if (!carries && !homeless && this.#atHome(home, driver)) return undefined
    if (entry && !entry.shared) {
      entry.driver = driver
      entry.handle = handle
    } else {
      entry = { driver, state: null, handle, shared: false }
      ;(target as Record<symbol, SlotEntry<User, Data>>)[this.#key] = entry
    }
    if (!carries) return undefined
    // HTTPS asked only if a cookie is written: most returning visitors' requests write none.
    const state = driver.open(cookieHeader, () => this.#secure(target))
    entry.state = state
    return state.start()
  }

  /** Whether `home`'s entry names `driver` (made when it has none); another driver's: `false`. */
  #atHome(home: object, driver: SessionDriver<User, Data>): boolean {
    if (!Object.hasOwn(home, this.#key)) {
      const entry: SlotEntry<User, Data> = { driver, state: null, handle: undefined, shared: true }
      // Writable: a request's own entry is an assignment, which a read-only inherited key would refuse.
      Object.defineProperty(home, this.#key, {
        value: Object.freeze(entry),
        writable: true,
        configurable: true,
      })
      return true
    }
    return (home as Record<symbol, SlotEntry<User, Data>>)[this.#key]!.driver === driver
  }

  /**
   * The steps before the handler: `attach`, then the extensions' checks (CSRF) when there are any.
   * `undefined`: go on at once. Else a promise of the checks' answer: `null` goes on, an answer is
   * sent instead of the handler's.
   */
  begin(
    target: Target,
    driver: SessionDriver<User, Data>,
    cookieHeader: string | null | undefined,
    input: (target: Target) => RequestCheckInput,
    handle?: unknown,
    home?: object,
  ): Promise<ExtensionAnswer | null> | undefined {
    const verifying = this.attach(target, driver, cookieHeader, handle, home)
    if (!driver.checks) return verifying?.then(() => null)
    const check = () => this.of(target).check(input(target))
    return verifying ? verifying.then(check) : check()
  }

  /** The request's state, opened on first use; throws when the session middleware did not run first. */
  of(target: Target): RequestSession<User, Data> {
    const entry = this.#entry(target)
    if (!entry)
      throw new Error(`[sessionbridge/${this.#package}] the session middleware must run before this one`)
    if (entry.shared) {
      // First use of a request that left its entry at home: now it gets its own.
      const state = entry.driver.open(undefined, this.#secure(target))
      const own: SlotEntry<User, Data> = { driver: entry.driver, state, handle: undefined, shared: false }
      ;(target as Record<symbol, SlotEntry<User, Data>>)[this.#key] = own
      return state
    }
    entry.state ??= entry.driver.open(undefined, this.#secure(target))
    return entry.state
  }

  /** The state when the request used it (or carried a cookie), else `null`: nothing to finish. */
  opened(target: Target): RequestSession<User, Data> | null {
    return this.#entry(target)?.state ?? null
  }

  /** The `handle` the last `attach` was given, `undefined` when none (never attached, or left at home). */
  handle(target: Target): unknown {
    return this.#entry(target)?.handle
  }

  #entry(target: Target): SlotEntry<User, Data> | undefined {
    return Reflect.get(target, this.#key) as SlotEntry<User, Data> | undefined
  }
}

/** How the members reach a request's facts. */
export interface SessionMemberFacts<Target> {
  /** The state (e.g. `slot.of`). */
  state(target: Target): RequestSession
  /** The client address for the throttle (e.g. the framework's `ip`). */
  address(target: Target): string | null | undefined
  /** The request's `Cookie` header. */
  cookie(target: Target): string | null | undefined
}

/**
 * The members every adapter puts on its request (or context) object, as property descriptors whose
 * functions are shared by all requests (define them once, on a prototype, or per request without
 * closures): `session` and `user` getters, `login(user)`, `logout()`,
 * `authenticate(username, password)` (throttled with the client address) and `csrfToken()`.
 */
export function sessionMembers<Target extends object>(
  facts: SessionMemberFacts<Target>,
): PropertyDescriptorMap {
  const { state, address, cookie } = facts
  return {
    session: {
      configurable: true,
      get(this: Target) {
        return state(this).session
      },
    },
    user: {
      configurable: true,
      enumerable: true,
      get(this: Target) {
        return state(this).user
      },
    },
    login: {
      configurable: true,
      writable: true,
      value(this: Target, user: AuthUser) {
        return state(this).login(user)
      },
    },
    logout: {
      configurable: true,
      writable: true,
      value(this: Target) {
        state(this).logout()
      },
    },
    authenticate: {
      configurable: true,
      writable: true,
      value(this: Target, username: string, password: string) {
        return state(this).authenticate({ username, password }, address(this))
      },
    },
    csrfToken: {
      configurable: true,
      writable: true,
      value(this: Target) {
        return state(this).csrfToken(cookie(this))
      },
    },
  }
}

const FORM = /^application\/x-www-form-urlencoded\b/i

/**
 * A form field of a body a parser already read: an object of fields (`express.urlencoded()`,
 * `koa-bodyparser`, a Fastify content-type parser) or a raw urlencoded string. Else `undefined`.
 */
export function bodyField(
  body: unknown,
  contentType: string | null | undefined,
  name: string,
): string | undefined {
  if (typeof body === 'string') {
    return FORM.test(contentType ?? '') ? (new URLSearchParams(body).get(name) ?? undefined) : undefined
  }
  const value = (body as Record<string, unknown> | null | undefined)?.[name]
  return typeof value === 'string' ? value : undefined
}

/** How an adapter turns each resolved guard or ticket route into its framework's handler. */
export interface RouteMakers<Handler, User extends AuthUser = AuthUser> {
  guard(guard: ResolvedBasicGuard): Handler
  ticket(route: ResolvedTicketRoute<User>): Handler
  realtimeTicket(route: ResolvedTicketRoute<User>): Handler
}

/** The guard and ticket factories every framework package exports (see core's README). */
export interface SessionRoutes<Handler, User extends AuthUser = AuthUser> {
  /** A logged-in user, or valid Basic credentials; otherwise 401. */
  loggedInOrBasicAuth(options?: BasicGuardOptions): Handler
  /** Like `loggedInOrBasicAuth`, and the user must hold `permission`; 403 without it. */
  permissionOrBasicAuth(permission: string, options?: BasicGuardOptions): Handler
  /** The handler of `POST /ticket`: the seed's JSON answer. */
  ticketRoute(store: TicketStore | null, options?: TicketRouteOptions<User>): Handler
  /** A step that makes a fresh realtime ticket (or `null`) for the view. */
  realtimeTicket(store: TicketStore | null, options?: TicketRouteOptions<User>): Handler
}

/** The guard and ticket factories of an adapter; options are checked when a factory is called. */
export function sessionRoutes<Handler, User extends AuthUser = AuthUser>(
  pkg: string,
  make: RouteMakers<Handler, User>,
): SessionRoutes<Handler, User> {
  return {
    loggedInOrBasicAuth: (options = {}) => make.guard(resolveBasicGuard(null, options, pkg)),
    permissionOrBasicAuth: (permission, options = {}) =>
      make.guard(resolveBasicGuard(permission, options, pkg)),
    ticketRoute: (store, options = {}) => make.ticket(resolveTicketRoute(store, options, pkg)),
    realtimeTicket: (store, options = {}) => make.realtimeTicket(resolveTicketRoute(store, options, pkg)),
  }
}

// `sessionFetch`: sessions around a Hono app's `fetch` instead of in its middleware chain. Hono runs
// a route with no middleware without its `compose` (no promise, no `async` frame): any middleware,
// even an empty one, costs a request about a tenth of a bare one (bench/README.md). Around `fetch`,
// a request that never touches its session costs one property on its `Request`.
import type { AuthUser, SessionData } from '@sessionbridge/core'
import { type ExtensionAnswer, type RequestSession, sessionErrorAnswer } from '@sessionbridge/core/adapter'
import type { Context } from 'hono'
import { type Binding, bindSessions, commitFailed, type HonoSessionOptions } from './binding.ts'
import type { SessionAccess, SessionHolder } from './holder.ts'
import {
  checkFetchInput,
  isDefaultErrorAnswer,
  isSecureFetch,
  requestHeader,
  textAnswer,
  withCookies,
} from './request-io.ts'

/** A `fetch` handler, as Hono's `app.fetch` and the servers that call it have it. */
export type FetchHandler = (request: Request, ...rest: never[]) => Response | Promise<Response>

const kFetch = Symbol('sessionbridge.fetch')
const NO_COOKIES: readonly string[] = []

/**
 * What `sessionFetch` keeps on a request once its session is used (before: the `Binding` alone, no
 * object a request).
 */
class FetchRequest implements SessionHolder {
  readonly binding: Binding
  state: RequestSession | null = null
  readonly #request: Request
  readonly #env: unknown
  /** The context that used the session (set when a handler reaches it). */
  context: Context | null = null
  /** What Hono's error handler got for this request, when it got anything. */
  error: unknown = undefined
  access: SessionAccess | null = null
  constructor(binding: Binding, request: Request, env: unknown) {
    this.binding = binding
    this.#request = request
    this.#env = env
  }
  /** Asked only when a cookie is written (see core's `SessionStart.secure`). */
  get secure(): boolean {
    return isSecureFetch(this.#request, this.#env, this.binding.trustProxy)
  }
  /** The request's state, opened on first use (with the request's cookie by `sessionFetch`). */
  open(cookie?: string): RequestSession {
    this.state ??= this.binding.driver.open(cookie, this)
    return this.state
  }
  header(name: string): string | undefined {
    return requestHeader(this.#request, this.#env, name)
  }
  clientAddress(): string | null | undefined {
    return this.context === null ? null : this.binding.clientAddress(this.context)
  }
}
type Held = Request & { [kFetch]?: Binding | FetchRequest }

/**
 * The `sessionFetch` holder of a request, made on its first use; `undefined` when no `sessionFetch`
 * runs it.
 */
function holderOf(request: Held, env: unknown): FetchRequest | undefined {
  const held = request[kFetch]
  if (held === undefined || held instanceof FetchRequest) return held
  const holder = new FetchRequest(held, request, env)
  request[kFetch] = holder
  return holder
}

/** The `sessionFetch` holder of a context's request; `undefined` outside one. */
export function fetchHolderOf(c: Context): FetchRequest | undefined {
  const holder = holderOf(c.req.raw, c.env)
  if (holder) holder.context ??= c
  return holder
}

/**
 * Wraps a Hono app's `fetch` with sessions: `serve({ fetch: sessionFetch(app, options) })`, or
 * `export default { fetch: sessionFetch(app, options) }` on an edge runtime. Handlers reach the
 * session through `sessionOf(c)`; the guards and the ticket route work as under the middleware. The
 * commit runs after the app answered; its failure answers 503 (or 409) itself, without the app's
 * `onError`. Misconfiguration throws `SessionConfigError` here, at startup.
 */
export function sessionFetch<F extends FetchHandler, User extends AuthUser = AuthUser>(
  app: { fetch: F },
  options: HonoSessionOptions<User>,
): F {
  const binding = bindSessions<User, SessionData>(options)
  const { driver } = binding
  // Three arguments, named: a rest parameter would make an array a request.
  const appFetch = app.fetch as unknown as (
    request: Request,
    env: unknown,
    ctx: unknown,
  ) => Response | Promise<Response>
  recordErrors(app)

  /** The checks when there are any, then the app's answer, then the commit. */
  const dispatch = (request: Held, env: unknown, ctx: unknown): Response | Promise<Response> =>
    driver.checks ? checked(request, env, ctx) : answered(request, env, ctx)
  /** The app's answer, then the commit. */
  const answered = (request: Held, env: unknown, ctx: unknown): Response | Promise<Response> => {
    let res: Response | Promise<Response>
    try {
      res = appFetch(request, env, ctx)
    } catch (failure) {
      return afterFailure(request, failure)
    }
    if (!(res instanceof Promise)) return afterAnswer(request, res)
    return res.then(
      (done) => afterAnswer(request, done),
      (failure: unknown) => afterFailure(request, failure),
    )
  }
  /** The extensions' checks (CSRF): their answer instead of the app's, or the app's. */
  const checked = async (request: Held, env: unknown, ctx: unknown): Promise<Response> => {
    let answer: ExtensionAnswer | null
    try {
      answer = await holderOf(request, env)!.open().check(checkFetchInput(request, env))
    } catch (failure) {
      const generic = sessionErrorAnswer(failure)
      if (!generic) return afterFailure(request, failure)
      binding.logger.warn(`[sessionbridge/hono] check failed: ${(failure as Error)?.message}`)
      return afterAnswer(request, textAnswer(generic.status, generic.body))
    }
    if (answer) return afterAnswer(request, new Response(answer.body, answer))
    return answered(request, env, ctx)
  }
  /** After the app answered: the commit (when the session changed), then the response's cookies. */
  const afterAnswer = (request: Held, res: Response): Response | Promise<Response> => {
    const holder = request[kFetch]
    if (!(holder instanceof FetchRequest)) return res
    const { state } = holder
    if (state === null || state.settled) return respond(holder, res, NO_COOKIES)
    return state.finishThen(
      (cookies) => respond(holder, res, cookies),
      (error) => {
        const answer = commitFailed(binding, error)
        // A failure of ours must not replace the handler's own error response.
        if (holder.error !== undefined) return respond(holder, res, NO_COOKIES)
        return answer ? textAnswer(answer.status, answer.body) : textAnswer(500, 'Internal Server Error')
      },
    )
  }
  /** After the app threw (Hono rethrows what is not an `Error`): commit, then rethrow. */
  const afterFailure = (request: Held, failure: unknown): Promise<never> => {
    const holder = request[kFetch]
    const state = holder instanceof FetchRequest ? holder.state : null
    if (state === null || state.settled) return Promise.reject(failure)
    return state.finish().then(
      () => Promise.reject(failure),
      (error) => {
        commitFailed(binding, error)
        return Promise.reject(failure)
      },
    )
  }

  return function sessionbridge(request: Held, env?: unknown, ctx?: unknown): Response | Promise<Response> {
    request[kFetch] = binding
    const cookie = requestHeader(request, env, 'cookie')
    if (driver.manager.mayCarrySession(cookie)) {
      // A signature verified before needs no promise: no tick on a returning visitor.
      const verifying = holderOf(request, env)!.open(cookie).start()
      if (verifying) {
        return verifying.then(
          () => dispatch(request, env, ctx),
          (failure: unknown) => afterFailure(request, failure),
        )
      }
    }
    return dispatch(request, env, ctx)
  } as unknown as F
}

/** The cookies on the response; a handler's session error answered 503 or 409 in place of Hono's default answer only. */
function respond(
  holder: FetchRequest,
  res: Response,
  cookies: readonly string[],
): Response | Promise<Response> {
  const answer = holder.error === undefined ? null : sessionErrorAnswer(holder.error)
  if (!answer) return withCookies(res, cookies)
  return isDefaultErrorAnswer(res).then((isDefault) =>
    withCookies(isDefault ? textAnswer(answer.status, answer.body) : res, cookies),
  )
}

/**
 * Hono's error handler, seen through: what it gets for a request whose session is used is kept on
 * the request's holder (Hono's route without middleware sets no `c.error`). An accessor on this one
 * app, so `app.onError()` called after still sets the handler that answers.
 */
function recordErrors(app: object): void {
  // Hono's own property (typed private): absent in another version, errors are not seen, no more.
  let handler: unknown = Reflect.get(app, 'errorHandler')
  if (typeof handler !== 'function') return
  const recording = (error: unknown, c: Context) => {
    const holder = (c.req.raw as Held)[kFetch]
    if (holder instanceof FetchRequest) holder.error = error
    return (handler as (error: unknown, c: Context) => unknown)(error, c)
  }
  Object.defineProperty(app, 'errorHandler', {
    configurable: true,
    enumerable: true,
    get: () => recording,
    set: (next: unknown) => {
      handler = next
    },
  })
}

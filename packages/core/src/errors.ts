/** Base class of every error sessionbridge throws on purpose. */
export class SessionError extends Error {
  override name = 'SessionError'
}

/**
 * A backend could not do its I/O: the server is down, slow, or answered something unusable.
 * Never thrown for "not found". Carries HTTP status 503 so frameworks answer "try again later"
 * rather than 500, and `cause` holds the underlying error.
 */
export class SessionBackendError extends SessionError {
  override name = 'SessionBackendError'
  /** Name of the backend that failed, e.g. `redis`. */
  readonly backend: string
  /** What was being done: `load`, `create`, `save`, `touch`, `destroy`, ... */
  readonly operation: string
  readonly status = 503
  readonly statusCode = 503
  /** Koa reads this: never expose backend details to the client. */
  readonly expose = false

  constructor(backend: string, operation: string, message: string, options?: { cause?: unknown }) {
    super(`[sessionbridge/${backend}] ${operation} failed: ${message}`, options)
    this.backend = backend
    this.operation = operation
  }
}

/** A backend or manager call did not finish within its configured time. */
export class SessionTimeoutError extends SessionBackendError {
  override name = 'SessionTimeoutError'
  readonly timeoutMs: number
  constructor(backend: string, operation: string, timeoutMs: number) {
    super(backend, operation, `no answer within ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }
}

/**
 * A read-modify-write (`session.update()`) kept meeting concurrent changes of the same key and ran
 * out of attempts. Nothing was written: frameworks answer 409 so the client can retry, never a
 * silent loss.
 */
export class SessionConflictError extends SessionError {
  override name = 'SessionConflictError'
  readonly backend: string
  readonly key: string
  readonly attempts: number
  readonly status = 409
  readonly statusCode = 409
  /** Koa reads this: the body says "Conflict", the message (backend, key) stays in the log. */
  readonly expose = false

  constructor(backend: string, key: string, attempts: number) {
    super(`[sessionbridge/${backend}] update of "${key}" kept conflicting after ${attempts} attempts`)
    this.backend = backend
    this.key = key
    this.attempts = attempts
  }
}

/** A value cannot be stored: too large, of a type the store cannot hold, ... Names the limit or key. */
export class SessionDataError extends SessionError {
  override name = 'SessionDataError'
  readonly status = 500
  readonly statusCode = 500
  constructor(pkg: string, message: string, options?: { cause?: unknown }) {
    super(`[sessionbridge/${pkg}] ${message}`, options)
  }
}

/** Misconfiguration, thrown at startup. The message names the package and the option. */
export class SessionConfigError extends SessionError {
  override name = 'SessionConfigError'
  readonly package: string
  readonly option: string
  constructor(pkg: string, option: string, problem: string) {
    super(`[sessionbridge/${pkg}] ${problem.replace('%s', `option "${option}"`)}`)
    this.package = pkg
    this.option = option
  }
}

/** Shorthand for the most common configuration problem. */
export function missingOption(pkg: string, option: string): SessionConfigError {
  return new SessionConfigError(pkg, option, 'missing %s')
}

/** What `backendCall` lets through as it is: an error that is already a `SessionBackendError`. */
const keepBackendErrors = (error: unknown): Error | null =>
  error instanceof SessionBackendError ? error : null

/**
 * A `typed` hook for `backendCall` that lets every `SessionError` through as it is (a backend's own
 * `SessionDataError` for a value too large, a timeout): only untyped I/O failures are wrapped.
 */
export const keepSessionErrors = (error: unknown): Error | null =>
  error instanceof SessionError ? error : null

/** The error a failed backend call throws: what `typed` answers, else a `SessionBackendError`. */
export function backendError(
  backend: string,
  operation: string,
  error: unknown,
  typed: (error: unknown, operation: string) => Error | null = keepBackendErrors,
): Error {
  return (
    typed(error, operation) ??
    new SessionBackendError(backend, operation, error instanceof Error ? error.message : String(error), {
      cause: error,
    })
  )
}

/**
 * Runs one I/O call of a backend or store: a failure (a rejection, or a synchronous throw of
 * `call`) becomes a `SessionBackendError` of `backend`'s `operation` with the original as `cause`,
 * unless `typed` answers it with an error to throw instead (by default: a `SessionBackendError`
 * passes as it is; a backend may let its `SessionDataError`s through with `keepSessionErrors`, or
 * map a driver's error). A `.catch`, not an async wrapper: every read and write of a backend runs
 * through here.
 */
export function backendCall<T>(
  backend: string,
  operation: string,
  call: () => Promise<T>,
  typed: (error: unknown, operation: string) => Error | null = keepBackendErrors,
): Promise<T> {
  const wrap = (error: unknown): never => {
    throw backendError(backend, operation, error, typed)
  }
  let pending: Promise<T>
  try {
    pending = call()
  } catch (error) {
    return Promise.reject(error).catch(wrap)
  }
  return pending.catch(wrap)
}

/**
 * Runs a backend's `update` machinery (`run`) around the application's `fn`: an exception `fn`
 * itself threw reaches the caller as itself, not as the I/O failure `run` would wrap it in.
 */
export async function keepingAppErrors<A, R, T>(
  fn: (current: A) => R,
  run: (guarded: (current: A) => R) => Promise<T>,
): Promise<T> {
  let thrown: { error: unknown } | null = null
  const guarded = (current: A): R => {
    try {
      return fn(current)
    } catch (error) {
      thrown = { error }
      throw error
    }
  }
  try {
    return await run(guarded)
  } catch (error) {
    throw thrown ? (thrown as { error: unknown }).error : error
  }
}

import { type CallOutcome, channels, clock } from './diagnostics.ts'
import { SessionBackendError, SessionError, SessionTimeoutError } from './errors.ts'

/**
 * Runs one backend call with a deadline, and turns whatever untyped error it throws into a
 * `SessionBackendError`, so a slow or broken store always yields a bounded, typed failure. Each
 * call is published on the `sessionbridge:backend` diagnostics channel when it has subscribers.
 */
export function boundedCall<T>(
  backend: string,
  operation: string,
  timeoutMs: number,
  call: () => Promise<T>,
): Promise<T> {
  if (!channels.backend.hasSubscribers) return deadlineCall(backend, operation, timeoutMs, call)
  const started = clock()
  const report = (outcome: CallOutcome, error?: Error) =>
    channels.backend.publish({
      backend,
      operation,
      outcome,
      durationMs: clock() - started,
      ...(error ? { errorName: error.name } : {}),
    })
  return deadlineCall(backend, operation, timeoutMs, call).then(
    (result) => {
      report(result === null || result === false ? 'miss' : 'ok')
      return result
    },
    (error: Error) => {
      report(error instanceof SessionTimeoutError ? 'timeout' : 'error', error)
      throw error
    },
  )
}

/**
 * `call()` bounded by `timeoutMs`: one promise, one timer, no `Promise.race` (this runs for every
 * backend call, so it allocates as little as it can).
 */
function deadlineCall<T>(
  backend: string,
  operation: string,
  timeoutMs: number,
  call: () => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // Typed errors already say what went wrong (e.g. SessionDataError: a value too large); only
      // untyped I/O failures are wrapped.
      if (error instanceof SessionError) return reject(error)
      const message = error instanceof Error ? error.message : String(error)
      reject(new SessionBackendError(backend, operation, message, { cause: error }))
    }
    const timer = setTimeout(() => fail(new SessionTimeoutError(backend, operation, timeoutMs)), timeoutMs)
    let pending: Promise<T>
    try {
      pending = call()
    } catch (error) {
      return fail(error)
    }
    Promise.resolve(pending).then((value) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(value)
    }, fail)
  })
}

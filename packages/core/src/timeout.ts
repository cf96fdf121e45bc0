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

async function deadlineCall<T>(
  backend: string,
  operation: string,
  timeoutMs: number,
  call: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SessionTimeoutError(backend, operation, timeoutMs)), timeoutMs)
  })
  try {
    return await Promise.race([call(), deadline])
  } catch (error) {
    // Typed errors already say what went wrong (e.g. SessionDataError: a value too large); only
    // untyped I/O failures are wrapped.
    if (error instanceof SessionError) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw new SessionBackendError(backend, operation, message, { cause: error })
  } finally {
    clearTimeout(timer)
  }
}

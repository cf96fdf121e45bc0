import { SessionBackendError, SessionError, SessionTimeoutError } from './errors.ts'

/**
 * Runs one backend call with a deadline, and turns whatever untyped error it throws into a
 * `SessionBackendError`, so a slow or broken store always yields a bounded, typed failure.
 */
export async function boundedCall<T>(
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

import { SessionBackendError, SessionTimeoutError } from './errors.ts'

/**
 * Runs one backend call with a deadline, and turns whatever it throws into a
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
    if (error instanceof SessionBackendError) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw new SessionBackendError(backend, operation, message, { cause: error })
  } finally {
    clearTimeout(timer)
  }
}

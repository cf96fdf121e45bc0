import { channels } from './diagnostics.ts'
import { backendError, keepSessionErrors } from './errors.ts'
import { kRunner, type Runner } from './runner.ts'
import { boundedThen } from './timeout.ts'
import type { SessionBackend } from './types.ts'

/**
 * `boundedThen` without the deadline, for a backend whose every call settles without waiting on
 * I/O or timers (core's memory backend: no `await` inside), where a deadline cannot pass and its
 * bookkeeping (a promise of its own, a queue slot, a clock reading: about 1k instructions a call)
 * buys nothing. Failures are typed as `boundedThen` types them; with subscribers on the
 * diagnostics channel the call goes through `boundedThen`, which publishes it.
 */
export const promptThen: typeof boundedThen = (backend, operation, timeoutMs, call, onValue, onFailure) => {
  if (channels.backend.hasSubscribers)
    return boundedThen(backend, operation, timeoutMs, call, onValue, onFailure)
  let answer: ReturnType<typeof call>
  try {
    answer = Promise.resolve(call())
  } catch (error) {
    answer = Promise.reject(error)
  }
  return answer.then(onValue, (error: unknown) =>
    onFailure(backendError(backend, operation, error, keepSessionErrors)),
  )
}

const PROMPT: Runner = Object.freeze({ run: promptThen })

/**
 * Has the lifecycle run `backend`'s loads and saves through `promptThen` (see `kRunner`). Here, not
 * in runner.ts: only a bundle with the memory backend carries `promptThen` (a Worker on
 * rest-sessions does not).
 */
export function settlingAtOnce<B extends SessionBackend>(backend: B): B {
  Object.defineProperty(backend, kRunner, { value: PROMPT })
  return backend
}

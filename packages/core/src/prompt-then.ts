import { channels } from './diagnostics.ts'
import { backendError, keepSessionErrors } from './errors.ts'
import { kRunner, type LoadAtOnce, type Runner } from './runner.ts'
import { boundedThen } from './timeout.ts'
import type { SessionBackend } from './types.ts'

/**
 * `boundedThen` without the deadline, for a backend whose every call settles without waiting on
 * I/O or timers (core's memory backend: no `await` inside), or whose waits the backend bounds
 * itself (SQLite's lock waits, up to `lockWaitMs`): a deadline buys nothing there for its
 * bookkeeping (a promise of its own, a queue slot, a clock reading: about 1k instructions a call).
 * Failures are typed as `boundedThen` types them; with subscribers on the diagnostics channel the
 * call goes through `boundedThen`, which publishes it.
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
 * Has the lifecycle run `backend`'s loads and saves through `promptThen` (see `kRunner`): for a
 * backend whose loads and saves settle at once or after waits it bounds itself, none on I/O that
 * could hang. Here, not in runner.ts: only a bundle with such a backend carries `promptThen` (a
 * Worker on rest-sessions does not). With `loadAtOnce` (the backend's load without a promise, see
 * `LoadAtOnce`), a session's first read takes the record in the read's own turn: no reaction to
 * wait for, no `await` in `get` (about 700 instructions of a SQLite increment).
 */
export function settlingAtOnce<B extends SessionBackend>(backend: B, loadAtOnce?: LoadAtOnce): B {
  const runner: Runner =
    loadAtOnce === undefined ? PROMPT : Object.freeze({ run: promptThen, loadAtOnce, load: backend.load })
  Object.defineProperty(backend, kRunner, { value: runner })
  return backend
}

import { channels } from './diagnostics.ts'
import { boundedThen } from './timeout.ts'
import type { SessionBackend, SessionRecord } from './types.ts'

/**
 * How a backend's loads and saves are run, when not `boundedThen`: core's memory backend carries
 * `promptThen` (its calls settle at once, a deadline could never pass). Not enumerable: a copy
 * spread from it with methods of its own (`{ ...memoryBackend(), load }`: a test's hanging
 * stand-in, a wrapper that adds latency) does not carry it and keeps the deadline. A wrapper made
 * with `Object.create(backend)` inherits it, and must settle at once too.
 */
export const kRunner = Symbol()

/**
 * What `kRunner` holds: an object, not the function itself, so a proxy that wraps a backend's
 * function-valued properties (call counting, as the tests and the bench do) hands it over as it is.
 */
export interface Runner {
  readonly run: typeof boundedThen
  /** The backend's load answered without a promise (`settlingAtOnce`), for the `load` it stands in for. */
  readonly loadAtOnce?: LoadAtOnce
  readonly load?: SessionBackend['load']
}

/**
 * A backend's load answered at once: the record, `null` when there is none, or `undefined` when
 * the answer must wait (the lifecycle then calls `load`). Throws what `load` would reject with.
 */
export type LoadAtOnce = (id: string) => SessionRecord | null | undefined

/** The runner of `backend`'s loads and saves (see `kRunner`). */
export const runnerOf = (backend: SessionBackend): typeof boundedThen =>
  (backend as { [kRunner]?: Runner })[kRunner]?.run ?? boundedThen

/**
 * `backend`'s load without a promise, when `settlingAtOnce` gave it one, its `load` is still the
 * one it was given for (a wrapper that replaced or counts `load` keeps its calls) and no one
 * subscribes to the diagnostics channel (which publishes every call); else `null`.
 */
export function loadAtOnceOf(backend: SessionBackend): LoadAtOnce | null {
  const runner = (backend as { [kRunner]?: Runner })[kRunner]
  if (runner?.loadAtOnce === undefined || runner.load !== backend.load || channels.backend.hasSubscribers)
    return null
  return runner.loadAtOnce
}

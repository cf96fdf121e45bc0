import { boundedThen } from './timeout.ts'
import type { SessionBackend } from './types.ts'

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
}

/** The runner of `backend`'s loads and saves (see `kRunner`). */
export const runnerOf = (backend: SessionBackend): typeof boundedThen =>
  (backend as { [kRunner]?: Runner })[kRunner]?.run ?? boundedThen

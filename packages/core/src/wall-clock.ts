import { clock } from './diagnostics.ts'

/** How long a reading of the wall clock is extended by the monotonic clock before it is read again. */
const RESYNC_MS = 1000

let wallAt = 0
let monotonicAt = Number.NEGATIVE_INFINITY

/**
 * The wall clock, epoch milliseconds, as `Date.now()` gives it, for the clocks' defaults (`now`).
 * `Date.now()` calls into the engine's runtime (about 210 instructions from optimized code, and
 * a request reads the time two or three times); `performance.now()` is a fast call (about 110
 * with the clock's read).
 * So the wall clock is read once a second and extended by the monotonic clock in between: the
 * value moves in whole milliseconds, stays within a millisecond of `Date.now()`, and a step of
 * the system clock shows within a second.
 */
export function wallClock(): number {
  const at = clock()
  const elapsed = at - monotonicAt
  if (elapsed < RESYNC_MS) return wallAt + Math.floor(elapsed)
  monotonicAt = at
  wallAt = Date.now()
  return wallAt
}

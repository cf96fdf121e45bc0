import { MapCapacity } from './map-capacity.ts'
import type { AttemptCount, AttemptStore } from './throttle.ts'

/** Options of `memoryAttemptStore`. */
export interface MemoryAttemptStoreOptions {
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
  /** Counters kept at most; expired ones are swept first, then the oldest go. @default 100000 */
  maxKeys?: number
}

/**
 * Attempt counters in this process: for one-process apps and tests. Several processes need a
 * shared store (Redis, memcached or SQL), or each one allows the full limit.
 */
export function memoryAttemptStore(options: MemoryAttemptStoreOptions = {}): AttemptStore {
  const now = options.now ?? Date.now
  const maxKeys = options.maxKeys ?? 100_000
  const counters = new Map<string, { count: number; resetAt: number }>()

  const capacity = new MapCapacity(counters, {
    max: maxKeys,
    expired: (entry: { resetAt: number }, at: number) => entry.resetAt <= at,
    now,
  })

  return {
    name: 'memory',
    async hit(key, windowMs): Promise<AttemptCount> {
      const at = now()
      let entry = counters.get(key)
      if (!entry || entry.resetAt <= at) {
        entry = { count: 0, resetAt: at + windowMs }
        counters.delete(key) // a new window counts as new: to the end of the insertion order
        counters.set(key, entry)
        capacity.enforce()
      }
      entry.count++
      return { count: entry.count, ttlMs: entry.resetAt - at }
    },
    async undo(key) {
      const entry = counters.get(key)
      if (entry && entry.count > 0) entry.count--
    },
    async reset(key) {
      counters.delete(key)
    },
  }
}

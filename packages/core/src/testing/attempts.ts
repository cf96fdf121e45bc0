import { describe, expect, it } from 'vitest'
import { randomString } from '../ids.ts'
import type { AttemptStore } from '../throttle.ts'

/** Options of `testAttemptStore`. */
export interface AttemptStoreTestOptions {
  /** Shown in the suite's title. */
  name: string
  /** The store under test (its key prefix unique to this run). */
  store: () => AttemptStore | Promise<AttemptStore>
  /** Parallel hits in the concurrency test. @default 50 */
  concurrentHits?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const freshKey = () =>
  `u:${randomString(22, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`

/** The conformance suite every `AttemptStore` runs against its real server. */
export function testAttemptStore(options: AttemptStoreTestOptions): void {
  describe(`AttemptStore conformance: ${options.name}`, () => {
    it('counts attempts in a window and reports the time left', async () => {
      const store = await options.store()
      const key = freshKey()
      const counts = []
      for (let i = 0; i < 4; i++) counts.push(await store.hit(key, 60_000))
      expect(counts.map((c) => c.count)).toEqual([1, 2, 3, 4])
      for (const c of counts) {
        expect(c.ttlMs).toBeGreaterThan(55_000)
        expect(c.ttlMs).toBeLessThanOrEqual(60_000)
      }
      expect((await store.hit(freshKey(), 60_000)).count).toBe(1)
    })

    it('starts a new window once the old one is over', async () => {
      const store = await options.store()
      const key = freshKey()
      await store.hit(key, 1000)
      await store.hit(key, 1000)
      await sleep(2200)
      expect((await store.hit(key, 1000)).count).toBe(1)
    })

    it('undo takes one back, never below zero, and never creates a key', async () => {
      const store = await options.store()
      const key = freshKey()
      await store.hit(key, 60_000)
      await store.hit(key, 60_000)
      await store.undo(key)
      expect((await store.hit(key, 60_000)).count).toBe(2)
      for (let i = 0; i < 3; i++) await store.undo(key)
      expect((await store.hit(key, 60_000)).count).toBe(1)
      const missing = freshKey()
      await store.undo(missing)
      expect((await store.hit(missing, 60_000)).count).toBe(1)
    })

    it('reset forgets the counter', async () => {
      const store = await options.store()
      const key = freshKey()
      await store.hit(key, 60_000)
      await store.hit(key, 60_000)
      await store.reset(key)
      await store.reset(freshKey())
      expect((await store.hit(key, 60_000)).count).toBe(1)
    })

    it('concurrent hits are each counted exactly once', async () => {
      const store = await options.store()
      const key = freshKey()
      const n = options.concurrentHits ?? 50
      const counts = await Promise.all(Array.from({ length: n }, () => store.hit(key, 60_000)))
      expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      )
    })
  })
}

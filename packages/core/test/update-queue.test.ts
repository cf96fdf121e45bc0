import { describe, expect, it } from 'vitest'
import type { UpdateOptions } from '../src/adapter.ts'
import { memoryBackend, type SessionBackend } from '../src/index.ts'
import { UpdateQueue } from '../src/update-queue.ts'

const HOUR = 3_600_000
const options = (): UpdateOptions => ({ expiresAt: Date.now() + HOUR, userId: null, maxAttempts: 3 })

/** A memory backend whose `update` waits `ms` first (a store round trip), counting its calls. */
function slowBackend(ms: number) {
  const base = memoryBackend()
  const calls: string[] = []
  const backend: SessionBackend = Object.create(base, {
    update: {
      value: async (...args: Parameters<NonNullable<SessionBackend['update']>>) => {
        calls.push(`${args[0]}/${args[1]}`)
        await new Promise((resolve) => setTimeout(resolve, ms))
        return base.update!(...args)
      },
    },
  })
  return { base, backend, calls }
}

/** Lets the queue's drain finish: its callers are answered a few microtasks before it lets go. */
const drained = () => new Promise((resolve) => setImmediate(resolve))

async function seeded(base: SessionBackend, ...ids: string[]) {
  for (const id of ids)
    await base.create(id, { data: { a: 0, b: 0 }, expiresAt: Date.now() + HOUR, userId: null })
}

describe('UpdateQueue', () => {
  it('keeps one queue per session and key, and lets each go once its updates are done', async () => {
    const { base, backend, calls } = slowBackend(5)
    const one = 'a'.repeat(43)
    const two = 'b'.repeat(43)
    await seeded(base, one, two)
    const queue = new UpdateQueue(backend)
    const plus = (n: unknown) => (n as number) + 1
    const pending = [
      queue.update(one, 'a', plus, options(), 1000),
      queue.update(one, 'a', plus, options(), 1000),
      queue.update(one, 'b', plus, options(), 1000),
      queue.update(`${'b'.repeat(42)}b`, 'a', plus, options(), 1000), // equal to `two`, another string
      queue.update(two, 'a', plus, options(), 1000),
    ]
    // Two sessions' slots run (one/a, one/b, two/a); the second update of each waits behind the first.
    expect(queue.size).toBe(2)
    const results = await Promise.all(pending)
    expect(results.map((result) => result?.value)).toEqual([1, 2, 1, 1, 2])
    expect(calls).toEqual([`${one}/a`, `${one}/b`, `${two}/a`, `${one}/a`, `${two}/a`])
    await drained()
    expect(queue.size, 'every slot is let go once its updates are done').toBe(0)
    // A new update after that starts a new slot and reaches the store at once.
    expect((await queue.update(one, 'a', plus, options(), 1000))?.value).toBe(3)
    await drained()
    expect(queue.size).toBe(0)
  })

  it('answers null to every caller of a batch whose session is gone', async () => {
    const { backend } = slowBackend(1)
    const queue = new UpdateQueue(backend)
    const gone = 'c'.repeat(43)
    const results = await Promise.all([
      queue.update(gone, 'a', () => 1, options(), 1000),
      queue.update(gone, 'a', () => 2, options(), 1000),
    ])
    expect(results).toEqual([null, null])
    await drained()
    expect(queue.size).toBe(0)
  })
})

import { describe, expect, it } from 'vitest'
import { memoryAttemptStore, memoryBackend, memoryTicketStore } from '../src/index.ts'
import { MapCapacity } from '../src/map-capacity.ts'

/** A map of key -> expiry, kept by a MapCapacity at `clock.time`; `seen` counts the expiry checks. */
function capped(max: number, clock = { time: 0 }) {
  const map = new Map<string, number>()
  const dropped: string[] = []
  const counts = { seen: 0 }
  const capacity = new MapCapacity(map, {
    now: () => clock.time,
    max,
    expired: (until: number, now: number) => {
      counts.seen++
      return until <= now
    },
    dropped: (key) => dropped.push(key),
  })
  return { map, dropped, counts, capacity }
}

describe('MapCapacity', () => {
  it('beyond max, drops the expired entries first, then the oldest', () => {
    const { map, dropped, capacity } = capped(4, { time: 10 })
    for (const [key, until] of [
      ['a', 100],
      ['b', 5],
      ['c', 100],
      ['d', 5],
    ] as const)
      map.set(key, until)
    map.set('e', 100)
    capacity.enforce()
    expect([...map.keys()]).toEqual(['a', 'c', 'e'])
    expect(dropped).toEqual(['b', 'd'])
    map.set('f', 100)
    map.set('g', 100)
    capacity.enforce()
    expect([...map.keys()]).toEqual(['c', 'e', 'f', 'g'])
  })

  it('drops in insertion order, an entry set again counting as new, as a list model does', () => {
    const { map, capacity } = capped(50)
    const model: string[] = []
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let step = 0; step < 20_000; step++) {
      const key = `k${random(120)}`
      if (random(5) === 0) {
        map.delete(key)
        model.splice(model.indexOf(key) >>> 0, model.includes(key) ? 1 : 0)
        continue
      }
      map.delete(key) // as memoryBackend re-inserts: to the end
      map.set(key, Number.POSITIVE_INFINITY)
      if (model.includes(key)) model.splice(model.indexOf(key), 1)
      model.push(key)
      capacity.enforce()
      while (model.length > 50) model.shift()
      if (step % 997 === 0) expect([...map.keys()]).toEqual(model)
    }
    expect([...map.keys()]).toEqual(model)
  })

  it('sweeps at most once per max / 2 inserts past the limit (not on every insert)', () => {
    const { map, counts, capacity } = capped(1000)
    for (let i = 0; i < 1000; i++) map.set(`live${i}`, Number.POSITIVE_INFINITY)
    for (let i = 0; i < 5000; i++) {
      map.set(`new${i}`, Number.POSITIVE_INFINITY)
      capacity.enforce()
    }
    expect(map.size).toBe(1000)
    // 5000 inserts past the limit: 10 sweeps of 1001 entries. Sweeping each time would be 5 million.
    expect(counts.seen).toBeLessThanOrEqual(10 * 1001)
    expect(counts.seen).toBeGreaterThan(0)
  })
})

describe('the in-process stores at capacity', () => {
  it('memoryBackend keeps the most recently used sessions and drops expired ones first', async () => {
    let now = 1_000
    const backend = memoryBackend({ maxEntries: 3, now: () => now })
    const rec = (expiresAt: number) => ({ data: { n: 1 }, expiresAt, userId: null })
    const ids = ['a', 'b', 'c'].map((c) => c.repeat(32))
    await backend.create(ids[0]!, rec(5_000))
    await backend.create(ids[1]!, rec(2_000))
    await backend.create(ids[2]!, rec(5_000))
    now = 3_000 // b has expired
    await backend.load(ids[0]!) // a is now the most recent
    await backend.create('d'.repeat(32), rec(5_000))
    expect(backend.size).toBe(3)
    expect(await backend.load(ids[0]!)).not.toBeNull()
    expect(await backend.load(ids[2]!)).not.toBeNull()
    await backend.create('e'.repeat(32), rec(5_000)) // nothing expired: the least recently used (d) goes
    expect(await backend.load('d'.repeat(32))).toBeNull()
    expect(await backend.load(ids[0]!)).not.toBeNull()
  })

  it('memoryAttemptStore: a counter whose window began again is the newest', async () => {
    let now = 0
    const store = memoryAttemptStore({ maxKeys: 3, now: () => now })
    await store.hit('a', 10)
    await store.hit('b', 1_000)
    await store.hit('c', 1_000)
    now = 20 // a's window is over; its next hit starts a new one
    await store.hit('a', 1_000)
    await store.hit('d', 1_000) // full: b is the oldest
    expect((await store.hit('a', 1_000)).count).toBe(2)
    expect((await store.hit('b', 1_000)).count).toBe(1)
  })

  it('memoryTicketStore drops the oldest ticket beyond maxEntries', async () => {
    const store = memoryTicketStore({ maxEntries: 2 })
    const first = await store.issue({ userId: 'u1' } as never, 60_000)
    await store.issue({ userId: 'u2' } as never, 60_000)
    await store.issue({ userId: 'u2' } as never, 60_000)
    expect(await store.consume(first)).toBeNull()
  })
})

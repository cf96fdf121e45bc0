import { describe, expect, it } from 'vitest'
import { memoryBackend } from '../src/index.ts'
import type { MemoryEntry } from '../src/memory.ts'
import { promptThen } from '../src/prompt-then.ts'
import { runnerOf } from '../src/runner.ts'
import { testBackend, timersOfAnIncrement } from '../src/testing/index.ts'
import { boundedThen } from '../src/timeout.ts'

const storages = new WeakMap<object, Map<string, MemoryEntry>>()

testBackend({
  name: 'memory',
  backend: () => {
    const storage = new Map<string, MemoryEntry>()
    const backend = memoryBackend({ storage })
    storages.set(backend, storage)
    return backend
  },
  corrupt: async (backend, id) => {
    const entry = storages.get(backend)!.get(id)!
    entry.json = '{not json'
    entry.version = undefined // an entry edited in place: no save may take it as unchanged
  },
  expiryResolutionMs: 200,
})

describe('memoryBackend', () => {
  it('evicts the least recently used entry beyond maxEntries', async () => {
    const backend = memoryBackend({ maxEntries: 3 })
    const rec = (n: number) => ({ data: { n }, expiresAt: Date.now() + 60_000, userId: null })
    const ids = ['a', 'b', 'c', 'd'].map((c) => c.repeat(32))
    for (const [i, id] of ids.slice(0, 3).entries()) await backend.create(id, rec(i))
    await backend.load(ids[0]!) // a is now the most recent
    await backend.create(ids[3]!, rec(3))
    expect(backend.size).toBe(3)
    expect(await backend.load(ids[1]!)).toBeNull()
    expect(await backend.load(ids[0]!)).not.toBeNull()
  })

  // memory.ts moves an entry to the map's end only when it was moved maxEntries / 2 moves ago or
  // more: the order changes less, and an entry used often enough is still never evicted.
  it('leaves a recently moved entry in place, and moves one that fell behind', async () => {
    const storage = new Map<string, MemoryEntry>()
    const backend = memoryBackend({ maxEntries: 10, storage })
    const rec = (n: number) => ({ data: { n }, expiresAt: Date.now() + 60_000, userId: null })
    const ids = 'abcdefgh'.split('').map((c) => c.repeat(32))
    for (const [i, id] of ids.entries()) await backend.create(id, rec(i))
    await backend.load(ids[6]!) // moved 1 move ago: stays
    await backend.save(ids[5]!, { set: { n: 50 }, deleted: [] }, rec(50)) // 2 moves ago: stays
    await backend.load(ids[0]!) // 7 moves ago (>= 5): to the end
    expect([...storage.keys()].map((id) => id[0]).join('')).toBe('bcdefgha')
    expect((await backend.load(ids[5]!))?.data).toEqual({ n: 50 })
  })

  it('never evicts an entry used once in every maxEntries / 2 other writes', async () => {
    const backend = memoryBackend({ maxEntries: 10 })
    const rec = { data: { n: 1 }, expiresAt: Date.now() + 60_000, userId: null }
    const kept = 'k'.repeat(32)
    const dropped = 'd'.repeat(32)
    await backend.create(kept, rec)
    await backend.create(dropped, rec)
    for (let i = 0; i < 100; i++) {
      await backend.create(String(i).padStart(32, '0'), rec)
      if (i % 5 === 4) expect(await backend.load(kept)).not.toBeNull()
    }
    expect(backend.size).toBe(10)
    expect(await backend.load(kept)).not.toBeNull()
    expect(await backend.load(dropped)).toBeNull()
  })

  it('refuses a maxEntries that is not a positive integer', () => {
    expect(() => memoryBackend({ maxEntries: 0 })).toThrow(/maxEntries/)
  })

  describe('flat data (kept as a copy, not as JSON text)', () => {
    const at = () => Date.now() + 60_000
    const id = 'f'.repeat(32)

    it('loads what a JSON round trip would give: -0 as 0, NaN and Infinity as null', async () => {
      const backend = memoryBackend()
      const values = ['x\ud800', 1.5, -0, Number.NaN, Number.POSITIVE_INFINITY, false, null]
      for (const value of values) {
        const data = { a: 1, value }
        await backend.create(id, { data, expiresAt: at(), userId: null })
        const loaded = (await backend.load(id))!.data
        expect(loaded, String(value)).toEqual(JSON.parse(JSON.stringify(data)))
        expect(Object.is(loaded.value, -0), String(value)).toBe(false)
        await backend.destroy(id)
      }
    })

    it('shares no object with the caller, either way', async () => {
      const backend = memoryBackend()
      const data: Record<string, unknown> = { a: 1 }
      await backend.create(id, { data, expiresAt: at(), userId: null })
      data.a = 2
      const first = (await backend.load(id))!.data
      first.a = 3
      expect((await backend.load(id))!.data).toEqual({ a: 1 })
    })

    it("writes the entry's json on demand, and a json assigned in place is the truth again", async () => {
      const storage = new Map<string, MemoryEntry>()
      const backend = memoryBackend({ storage })
      await backend.create(id, { data: { a: 1, b: 'x' }, expiresAt: at(), userId: null })
      expect(storage.get(id)!.json).toBe('{"a":1,"b":"x"}')
      storage.get(id)!.json = '{"a":7}'
      expect((await backend.load(id))!.data).toEqual({ a: 7 })
    })

    it('update answers what a load then gives, sharing no object with fn', async () => {
      const backend = memoryBackend()
      await backend.create(id, { data: { a: 1 }, expiresAt: at(), userId: null })
      const options = { expiresAt: at(), userId: null, maxAttempts: 1 }
      const mine = { x: 1 }
      const result = (await backend.update!(id, 'o', () => mine, options))!
      expect(result.value).toEqual({ x: 1 })
      expect(result.value).not.toBe(mine)
      mine.x = 2
      expect((await backend.load(id))!.data).toEqual({ a: 1, o: { x: 1 } })
      await backend.update!(id, 'o', () => undefined, options)
      const flat = (await backend.update!(id, 'z', () => -0, options))!
      expect(Object.is(flat.value, 0)).toBe(true)
      expect((await backend.load(id))!.data).toEqual({ a: 1, z: 0 })
    })

    it('keeps a flat "__proto__" key as plain data', async () => {
      const backend = memoryBackend()
      const data = JSON.parse('{"__proto__":"x","a":1}') as Record<string, unknown>
      await backend.create(id, { data, expiresAt: at(), userId: null })
      const loaded = (await backend.load(id))!.data
      expect(Object.getOwnPropertyDescriptor(loaded, '__proto__')?.value).toBe('x')
      expect(Object.getPrototypeOf(loaded)).not.toBe('x')
    })
  })
})

// The memory backend's calls settle at once: a session's load and save run without a deadline
// (no timer armed, `promptThen`); a copy spread from it with methods of its own keeps the deadline.
describe('memoryBackend: calls without a deadline', () => {
  it('is marked; a spread copy is not', () => {
    const memory = memoryBackend()
    expect(runnerOf(memory)).toBe(promptThen)
    expect(runnerOf({ ...memory })).toBe(boundedThen)
    expect(runnerOf({ ...memory, load: async () => null })).toBe(boundedThen)
  })

  it("arms no deadline for a session's load and save", async () => {
    expect(await timersOfAnIncrement(memoryBackend(), 4_321)).toBe(0)
  })

  it('arms the deadline for a spread copy (whose methods may wait)', async () => {
    expect(await timersOfAnIncrement({ ...memoryBackend() }, 4_321)).toBe(1)
  })
})

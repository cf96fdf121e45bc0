import { describe, expect, it } from 'vitest'
import { memoryBackend } from '../src/index.ts'
import type { MemoryEntry } from '../src/memory.ts'
import { testBackend } from '../src/testing/index.ts'

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

  it('refuses a maxEntries that is not a positive integer', () => {
    expect(() => memoryBackend({ maxEntries: 0 })).toThrow(/maxEntries/)
  })
})

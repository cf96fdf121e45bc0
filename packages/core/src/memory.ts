import { defaultIdFormat } from './ids.ts'
import { internString } from './intern.ts'
import { MapCapacity } from './map-capacity.ts'
import { decodeEntry, type MemoryEntry, StoredEntry } from './memory-entry.ts'
import { settlingAtOnce } from './prompt-then.ts'
import type { ChangeSet, IdFormat, SessionBackend, SessionRecord } from './types.ts'
import { wallClock } from './wall-clock.ts'

export type { MemoryEntry } from './memory-entry.ts'

/** Sets an own property, so a key named `__proto__` stays data (only that key needs the slow way). */
const setOwn = (data: Record<string, unknown>, key: string, value: unknown) => {
  if (key !== '__proto__') data[key] = value
  else Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true })
}

/** Options of `memoryBackend`. */
export interface MemoryBackendOptions {
  /**
   * Most sessions kept; beyond it the least recently used go (an entry used at least once in every
   * `maxEntries / 2` writes or uses of other entries is never evicted). @default 10_000
   */
  maxEntries?: number
  /** Id format. @default djangoIdFormat (32 x [a-z0-9]) */
  idFormat?: IdFormat
  /** The map to keep entries in; pass your own to inspect or seed it in tests. @default new Map() */
  storage?: Map<string, MemoryEntry>
  /** Clock, epoch ms. @default wallClock */
  now?: () => number
}

/**
 * An in-process store for development and tests. Merges change sets synchronously, so concurrent
 * requests writing different keys both survive. No timers: expired entries go when read, or when
 * the store is full.
 */
export function memoryBackend(
  options: MemoryBackendOptions = {},
): SessionBackend & { readonly size: number } {
  const maxEntries = options.maxEntries ?? 10_000
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError('maxEntries must be a positive integer')
  const store = options.storage ?? new Map<string, MemoryEntry>()
  const now = options.now ?? wallClock
  let writes = 0
  const nextVersion = () => String(++writes)

  const live = (id: string): MemoryEntry | undefined => {
    const entry = store.get(id)
    if (entry && entry.expiresAt <= now()) {
      store.delete(id)
      return undefined
    }
    return entry
  }
  const capacity = new MapCapacity(store, {
    max: maxEntries,
    expired: (entry: MemoryEntry, t: number) => entry.expiresAt <= t,
    now,
  })
  // Map order is the LRU order: a use moves its entry to the end (delete + set). An entry moved
  // fewer than `maxEntries / 2` moves ago has at most that many entries behind it, so no eviction
  // can reach it before it moves again: it stays in place, which saves a deletion, an insertion
  // and the rehash of deleted slots on most reads and writes of an active session.
  let moves = 0
  const recent = Math.floor(maxEntries / 2)
  const put = (id: string, entry: MemoryEntry, previous?: MemoryEntry) => {
    if (previous instanceof StoredEntry && moves - previous.movedAt < recent) {
      if (entry !== previous) {
        if (entry instanceof StoredEntry) entry.movedAt = previous.movedAt
        store.set(id, entry) // an existing key keeps its place
      }
      return
    }
    store.delete(id)
    store.set(id, entry)
    moves++
    if (entry instanceof StoredEntry) entry.movedAt = moves
    capacity.enforce()
  }
  /** The stored data (a fresh object), or `null` when it does not decode (then nothing may overwrite it but create/destroy). */
  const dataOf = (entry: MemoryEntry): Record<string, unknown> | null =>
    entry instanceof StoredEntry ? entry.data() : decodeEntry(entry.json)
  const entryOf = (record: SessionRecord): MemoryEntry =>
    new StoredEntry(record.data, record.expiresAt, record.userId, nextVersion())

  /** A load, answered in this turn (`settlingAtOnce`'s `loadAtOnce`: no promise for the session to await). */
  const loadNow = (id: string): SessionRecord | null => {
    const entry = live(id)
    if (!entry) return null
    put(id, entry, entry)
    const data = dataOf(entry)
    if (!data) return null
    const record: SessionRecord = { data, expiresAt: entry.expiresAt, userId: entry.userId }
    if (entry.version !== undefined) record.version = entry.version
    return record
  }

  const backend: SessionBackend & { readonly size: number } = {
    name: 'memory',
    idFormat: options.idFormat ?? defaultIdFormat,
    capabilities: {
      merge: true,
      issuesIds: false,
      anonymous: true,
      destroyUser: true,
      listUser: true,
      clearExpired: true,
      update: true,
    },
    get size() {
      return store.size
    },
    async load(id) {
      return loadNow(id)
    },
    async create(proposedId, record) {
      if (live(proposedId)) return null
      // The map keeps this key: shared with the signer's (see internString), each lookup is by identity.
      put(internString(proposedId), entryOf(record))
      return proposedId
    },
    async save(id: string, changes: ChangeSet, record: SessionRecord) {
      const entry = live(id)
      if (!entry) return false
      // Nothing written since this request loaded: its data is the stored data with its changes.
      if (entry.version !== undefined && record.version === entry.version) {
        put(id, entryOf(record), entry)
        return true
      }
      const data = dataOf(entry)
      if (!data) return false
      for (const key of changes.deleted) delete data[key]
      const set = changes.set
      for (const key of Object.keys(set)) setOwn(data, key, set[key])
      put(id, entryOf({ data, expiresAt: record.expiresAt, userId: record.userId }), entry)
      return true
    },
    // Synchronous from read to write: nothing can interleave, so one attempt always suffices.
    async update(id, key, fn, { expiresAt }) {
      const entry = live(id)
      const data = entry ? dataOf(entry) : null
      if (!entry || !data) return null
      const next = fn(Object.hasOwn(data, key) ? data[key] : undefined)
      if (next === undefined) delete data[key]
      else setOwn(data, key, next)
      const written = new StoredEntry(data, expiresAt, entry.userId, nextVersion()) // the stored user stays: only `key` changes
      put(id, written, entry)
      // What a load would now give (a JSON round trip's value), never `fn`'s own object.
      const stored = written.data()!
      return { value: Object.hasOwn(stored, key) ? stored[key] : undefined, data: stored }
    },
    async touch(id, expiresAt) {
      const entry = live(id)
      if (!entry) return false
      entry.expiresAt = expiresAt
      put(id, entry, entry)
      return true
    },
    async destroy(id) {
      store.delete(id)
    },
    async destroyUser(userId) {
      let count = 0
      for (const [id, entry] of store) {
        if (entry.userId === userId) {
          store.delete(id)
          count++
        }
      }
      return count
    },
    async listUser(userId) {
      const ids: string[] = []
      for (const [id] of store) if (live(id)?.userId === userId) ids.push(id)
      return ids
    },
    async clearExpired() {
      const t = now()
      let count = 0
      for (const [id, entry] of store) {
        if (entry.expiresAt <= t) {
          store.delete(id)
          count++
        }
      }
      return count
    },
  }
  return settlingAtOnce(backend, loadNow)
}

import { type AttemptCount, type AttemptStore, SessionConfigError } from '@sessionbridge/core'
import { backendCall } from '@sessionbridge/core/adapter'
import type { MemcachedClientAdapter } from './adapter.ts'
import { createMemcachedClient, type MemcachedClientOptions } from './client.ts'
import { checkPrefix, exptimeFor } from './keys.ts'

const PKG = 'memcached'
/** Compare-and-swap rounds per hit before a key counts as flooded. */
const CAS_ROUNDS = 64

/** Options of `memcachedAttemptStore`. Give `servers` (built-in client) or `client` (your own). */
export interface MemcachedAttemptStoreOptions extends Partial<MemcachedClientOptions> {
  /** A client you bring; never closed by the store. */
  client?: MemcachedClientAdapter
  /** Prepended to every counter key. @default 'sb:attempts:' */
  prefix?: string
  /** Clock, epoch ms. @default Date.now */
  now?: () => number
}

/** The memcached attempt store; `close()` releases the built-in client. */
export interface MemcachedAttemptStore extends AttemptStore {
  close(): Promise<void>
}

const encode = (count: number, resetAt: number) => `${count}:${resetAt}`
function decode(value: string): { count: number; resetAt: number } | null {
  const match = /^([0-9]{1,9}):([0-9]{1,15})$/.exec(value)
  return match ? { count: Number(match[1]), resetAt: Number(match[2]) } : null
}

/**
 * Login attempt counters in memcached. Each counter is one item `count:windowEnd` (ms), updated by
 * compare-and-swap (`add` for the first attempt, `ms ... C<cas>` after), so concurrent attempts on
 * any number of app servers are each counted once; the item expires with its window. A key so
 * contended that 64 rounds all lose reports itself over any limit: only a flood does that.
 */
export function memcachedAttemptStore(options: MemcachedAttemptStoreOptions): MemcachedAttemptStore {
  if (!options || (!options.client && !options.servers)) {
    throw new SessionConfigError(PKG, 'servers', 'missing %s (or "client")')
  }
  const prefix = checkPrefix(PKG, 'prefix', options.prefix ?? 'sb:attempts:', 32)
  const now = options.now ?? Date.now
  const owned = !options.client
  const client = options.client ?? createMemcachedClient({ ...options, servers: options.servers! })

  const io = <T>(operation: string, fn: () => Promise<T>): Promise<T> => backendCall(PKG, operation, fn)

  const hit = async (key: string, windowMs: number): Promise<AttemptCount> => {
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const at = now()
      const item = await client.get(key)
      const current = item ? decode(item.value) : null
      if (!item || !current || current.resetAt <= at) {
        const resetAt = at + windowMs
        const fresh = { exptime: exptimeFor(resetAt, at), mode: item ? ('set' as const) : ('add' as const) }
        const result = await client.set(key, encode(1, resetAt), item ? { ...fresh, cas: item.cas } : fresh)
        if (result === 'stored') return { count: 1, ttlMs: windowMs }
        continue
      }
      const next = current.count + 1
      const result = await client.set(key, encode(next, current.resetAt), {
        exptime: exptimeFor(current.resetAt, at),
        cas: item.cas,
      })
      if (result === 'stored') return { count: next, ttlMs: current.resetAt - at }
    }
    return { count: Number.MAX_SAFE_INTEGER, ttlMs: windowMs }
  }

  const undo = async (key: string): Promise<void> => {
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const at = now()
      const item = await client.get(key)
      const current = item ? decode(item.value) : null
      if (!item || !current || current.count === 0 || current.resetAt <= at) return
      const result = await client.set(key, encode(current.count - 1, current.resetAt), {
        exptime: exptimeFor(current.resetAt, at),
        cas: item.cas,
      })
      if (result !== 'exists') return
    }
  }

  return {
    name: PKG,
    hit: (key, windowMs) => io('attempts.hit', () => hit(prefix + key, windowMs)),
    undo: (key) => io('attempts.undo', () => undo(prefix + key)),
    reset: (key) => io('attempts.reset', async () => void (await client.delete(prefix + key))),
    async close() {
      if (owned) await client.close?.()
    },
  }
}

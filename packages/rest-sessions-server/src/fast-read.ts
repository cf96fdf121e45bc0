import { BoundedCache } from '@sessionbridge/core/adapter'
import type { RedisCommandSender } from './store.ts'

/**
 * The read of a session whose last access is known not to move: HMGET + HINCRBY, sent together
 * (one round trip, two Redis commands), instead of the GET script (EVALSHA + HMGET + HSET).
 *
 * Why it keeps the script's semantics:
 * - The last access (`la`) moves only when the session has been idle for more than 1 s, or with
 *   `newttl`. This path is taken only when the process saw the session's `la` at most 1 s ago
 *   (`la` only ever moves forward, so another server instance can only make it newer): nothing but
 *   the read counter `r` would be written, and HINCRBY writes it atomically. Everything else (a due
 *   `la`, `newttl`, an unknown token) goes through the script.
 * - Expiry and idle are checked here exactly as the script's `load_session` does, from the same
 *   fields; an expired session answers nothing (its counter moved, which nothing can observe: every
 *   route skips an expired session, and the wiper deletes it).
 * - A session killed just before the increment would leave a hash holding only `r`: HINCRBY
 *   answers 1 then (a live session's `r` starts at 1), or the HMGET finds no `id`, and the key is
 *   deleted at once (a third command, only in that race).
 * - `no_resave` sessions (written by the original server) count their ttl down on every access:
 *   never remembered here, so always read by the script.
 */

/** The fields `load_session` reads, in its order. */
const FIELDS = ['id', 'r', 'w', 'ttl', 'la', 'ip', 'no_resave', 'd']

/** Lua's `tonumber` on a decimal field: NaN where it would answer nil. */
const luaNumber = (text: string | null | undefined): number =>
  typeof text === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(text) ? Number(text) : Number.NaN

/**
 * A bounded map of `app:token` to the last access the process saw, epoch seconds: core's
 * `BoundedCache` (at most `max` entries, the least recently written dropped half at a time; `0`
 * remembers nothing), whose eviction costs the same at any size.
 */
export class LastAccessCache extends BoundedCache<string, number> {
  /**
   * Remembers the last access after a script answered `view` at `now` (seconds): the scripts move
   * it to `now` when the session was idle more than 1 s (or got a new ttl: idle 0), else keep it.
   */
  remember(key: string, now: number, idle: number, noResave: boolean): void {
    if (noResave) this.delete(key)
    else this.set(key, idle > 1 ? now : now - idle)
  }
}

/** What the script's `view` answers, before `toView` turns it into a `SessionView`. */
export type RawView = [string, number, number, number, number, string, string | null]

/** The result of `fastRead`: `undefined` means "take the script". */
export type FastReadResult = RawView | null | undefined

/**
 * Reads `hashKey` through the fast path if `cache` says its last access is not due at `now`
 * (seconds); `run` bounds a Redis call by the store's deadline.
 */
export async function fastRead(
  redis: RedisCommandSender,
  run: <T>(call: Promise<T>) => Promise<T>,
  cache: LastAccessCache,
  cacheKey: string,
  hashKey: string,
  now: number,
): Promise<FastReadResult> {
  const seen = cache.get(cacheKey)
  if (seen === undefined || now - seen > 1) return undefined
  const [fields, counted] = await run(
    Promise.all([
      redis.sendCommand(['HMGET', hashKey, ...FIELDS]),
      redis.sendCommand(['HINCRBY', hashKey, 'r', '1']),
    ]),
  )
  const [id, , w, ttlText, laText, ip, noResave, d] = fields as (string | null)[]
  const count = Number(counted)
  if (count === 1 || typeof id !== 'string') {
    // Gone (killed, or by another instance): drop the hash the increment may have made.
    cache.delete(cacheKey)
    await run(redis.sendCommand(['DEL', hashKey]))
    return null
  }
  const ttl = luaNumber(ttlText)
  const la = luaNumber(laText)
  if (Number.isNaN(ttl) || Number.isNaN(la) || ttl < now - la) {
    cache.delete(cacheKey)
    return null
  }
  if (noResave === '1') {
    // Not reachable through `remember`; undo the increment and let the script do it all.
    cache.delete(cacheKey)
    await run(redis.sendCommand(['HINCRBY', hashKey, 'r', '-1']))
    return undefined
  }
  const writes = luaNumber(w)
  // Lua numbers come back from Redis truncated to integers.
  return [
    id,
    count - 1,
    Number.isNaN(writes) ? 0 : Math.trunc(writes),
    Math.trunc(ttl),
    Math.trunc(now - la),
    ip ?? '',
    d ?? null,
  ]
}

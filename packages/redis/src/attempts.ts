import { type AttemptCount, type AttemptStore, SessionConfigError } from '@sessionbridge/core'
import { backendCall } from '@sessionbridge/core/adapter'
import { type RedisCommands, resolveCommands } from './commands.ts'
import { luaScript } from './scripts.ts'

/** Options of `redisAttemptStore`. */
export interface RedisAttemptStoreOptions {
  /** The client, wrapped: `nodeRedisAdapter(client)` or `ioredisAdapter(client)`. */
  client: RedisCommands
  /** Prefix of every counter key. @default 'sb:attempts:' */
  prefix?: string
}

const PKG = 'redis'

/** KEYS[1] counter; ARGV[1] window ms. Returns {count, ms left}; the first hit starts the window. */
const HIT = luaScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

/** KEYS[1] counter. One attempt back, never below zero; a missing key stays missing; TTL kept. */
const UNDO = luaScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n and n > 0 then redis.call('DECR', KEYS[1]) end
return 0
`)

/**
 * Login attempt counters in Redis: one string key per counter, `INCR` and `PEXPIRE` in one script,
 * so concurrent attempts on any number of app servers are each counted once and windows end by TTL.
 */
export function redisAttemptStore(options: RedisAttemptStoreOptions): AttemptStore {
  if (!options || typeof options !== 'object') throw new SessionConfigError(PKG, 'client', 'missing %s')
  const commands = resolveCommands(options.client)
  const prefix = options.prefix ?? 'sb:attempts:'
  if (typeof prefix !== 'string') throw new SessionConfigError(PKG, 'prefix', '%s must be a string')

  const io = <T>(operation: string, fn: () => Promise<T>): Promise<T> => backendCall(PKG, operation, fn)

  return {
    name: PKG,
    hit: (key, windowMs) =>
      io('attempts.hit', async (): Promise<AttemptCount> => {
        const reply = await HIT.run(commands, prefix + key, [String(Math.ceil(windowMs))])
        const [count, ttl] = Array.isArray(reply) ? reply.map(Number) : []
        if (!Number.isSafeInteger(count) || !Number.isFinite(ttl))
          throw new Error('unexpected reply to the hit script')
        return { count: count!, ttlMs: Math.max(0, ttl!) }
      }),
    undo: (key) => io('attempts.undo', async () => void (await UNDO.run(commands, prefix + key, []))),
    reset: (key) =>
      io('attempts.reset', async () => void (await commands.send(prefix + key, ['DEL', prefix + key]))),
  }
}

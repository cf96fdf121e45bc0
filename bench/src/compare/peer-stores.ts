// Small external stores for the peers that ship none for Node + Redis (koa-session, hono-sessions),
// and a memory store for koa-session: the obvious implementation a user would write, one command
// per operation.
import type { SessionData, Store } from 'hono-sessions'
import type { createClient } from 'redis'

type RedisClient = ReturnType<typeof createClient>

/** koa-session's external store contract (ctx-free subset). */
export interface KoaStore {
  get(key: string, maxAge: number, options: { rolling: boolean }): Promise<unknown>
  set(
    key: string,
    session: unknown,
    maxAge: number,
    options: { rolling: boolean; changed: boolean },
  ): Promise<void>
  destroy(key: string): Promise<void>
}

const ttlMs = (maxAge: number) => (typeof maxAge === 'number' && maxAge > 0 ? maxAge : 86_400_000)

export function koaMemoryStore(): KoaStore {
  const map = new Map<string, { value: unknown; expires: number }>()
  return {
    async get(key) {
      const entry = map.get(key)
      if (!entry || entry.expires < Date.now()) return undefined
      return entry.value
    },
    async set(key, session, maxAge) {
      map.set(key, { value: session, expires: Date.now() + ttlMs(maxAge) })
    },
    async destroy(key) {
      map.delete(key)
    },
  }
}

export function koaRedisStore(client: RedisClient, prefix = 'sbbench:koa:'): KoaStore {
  return {
    async get(key) {
      const raw = await client.get(prefix + key)
      return raw === null ? undefined : JSON.parse(raw)
    },
    async set(key, session, maxAge) {
      await client.set(prefix + key, JSON.stringify(session), { PX: ttlMs(maxAge) })
    },
    async destroy(key) {
      await client.del(prefix + key)
    },
  }
}

/** hono-sessions' Store contract, on Redis with a fixed TTL. */
export function honoRedisStore(client: RedisClient, prefix = 'sbbench:hono:'): Store {
  const ttl = { EX: 3600 }
  return {
    async getSessionById(id?: string) {
      if (!id) return null
      const raw = await client.get(prefix + id)
      return raw === null ? null : (JSON.parse(raw) as SessionData)
    },
    async createSession(id: string, data: SessionData) {
      await client.set(prefix + id, JSON.stringify(data), ttl)
    },
    async persistSessionData(id: string, data: SessionData) {
      await client.set(prefix + id, JSON.stringify(data), ttl)
    },
    async deleteSession(id: string) {
      await client.del(prefix + id)
    },
  }
}

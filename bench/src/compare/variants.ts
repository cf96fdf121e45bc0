// Every server the comparison starts, per framework: the bare framework, sessionbridge on each
// backend, and the peers on their memory (or cookie) store and on Redis.
import type { Framework, Layer } from './layers.ts'
import { STORE_NAMES, type StoreName } from './stores.ts'

export interface CompareVariant {
  /** Shown in the table, e.g. `sessionbridge (redis)`. */
  name: string
  framework: Framework
  layer: Layer
  /** The store's commands are counted from Redis' own `INFO commandstats` (peers on Redis). */
  countsInRedis: boolean
  /** The session data lives in the cookie: an increment cannot persist for a client replaying one cookie. */
  cookieStore: boolean
}

/** The package whose `src/index.ts` must export `symbol` before a sessionbridge variant is measured. */
export const STORE_PACKAGES: Record<StoreName, { dir: string; symbol: string }> = {
  memory: { dir: 'core', symbol: 'memoryBackend' },
  redis: { dir: 'redis', symbol: 'redisBackend' },
  memcached: { dir: 'memcached', symbol: 'memcachedBackend' },
  postgres: { dir: 'sql', symbol: 'sqlBackend' },
  mariadb: { dir: 'sql', symbol: 'sqlBackend' },
  sqlite: { dir: 'sql', symbol: 'sqlBackend' },
  'rest-sessions': { dir: 'rest-sessions', symbol: 'restSessionsBackend' },
}

/** The name of the floor's empty-middleware row (its report looks the row up by it). */
export const EMPTY_MIDDLEWARE = 'empty middleware'

const v = (
  framework: Framework,
  name: string,
  layer: Layer,
  extra: Partial<CompareVariant> = {},
): CompareVariant => ({
  name,
  framework,
  layer,
  countsInRedis: layer.kind === 'peer' && layer.store === 'redis',
  cookieStore: layer.kind === 'peer' && layer.store === 'cookie',
  ...extra,
})

/**
 * Each backend's row, followed by its limit row (bare + the same raw round trips). Memory's limit
 * row is bare plus a `Map` lookup: its no-cookie request runs exactly the bare app's code, in a
 * process started and warmed like every other row, so it shows what bare costs in such a process.
 */
const ours = (framework: Framework) => [
  // The floor's second control: what any middleware costs (the comparison leaves it out).
  v(framework, EMPTY_MIDDLEWARE, { kind: 'middleware' }),
  ...STORE_NAMES.flatMap((store) => [
    v(framework, `sessionbridge (${store})`, { kind: 'sessionbridge', store }),
    v(framework, `limit (${store})`, { kind: 'limit', store }),
  ]),
]

export const VARIANTS: CompareVariant[] = [
  v('fastify', 'bare', { kind: 'bare' }),
  ...ours('fastify'),
  v('fastify', '@fastify/session (memory)', { kind: 'peer', store: 'memory' }),
  v('fastify', '@fastify/session (connect-redis)', { kind: 'peer', store: 'redis' }),
  v('koa', 'bare', { kind: 'bare' }),
  ...ours('koa'),
  v('koa', 'koa-session (signed cookie)', { kind: 'peer', store: 'cookie' }),
  v('koa', 'koa-session (memory store)', { kind: 'peer', store: 'memory' }),
  v('koa', 'koa-session (Redis store)', { kind: 'peer', store: 'redis' }),
  v('hono', 'bare', { kind: 'bare' }),
  ...ours('hono'),
  v('hono', 'hono-sessions (CookieStore)', { kind: 'peer', store: 'cookie' }),
  v('hono', 'hono-sessions (MemoryStore)', { kind: 'peer', store: 'memory' }),
  v('hono', 'hono-sessions (Redis store)', { kind: 'peer', store: 'redis' }),
  v('express', 'bare', { kind: 'bare' }),
  ...ours('express'),
  v('express', 'express-session (MemoryStore)', { kind: 'peer', store: 'memory' }),
  v('express', 'express-session (connect-redis)', { kind: 'peer', store: 'redis' }),
]

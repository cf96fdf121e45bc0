// What one benchmarked server puts in front of its handlers, and the small pieces every app shares.
import type { StoreName } from './stores.ts'

export type Framework = 'fastify' | 'koa' | 'hono' | 'express'

/** The framework alone; sessionbridge on one of its backends; or the peer library users would pick. */
export type Layer =
  | { kind: 'bare' }
  /**
   * `integration: 'fetch'`: Hono only, sessionbridge around `app.fetch` (`sessionFetch`) instead of
   * its middleware; a server of its own (one mount).
   */
  | { kind: 'sessionbridge'; store: StoreName; integration?: 'fetch' }
  /** Bare + the raw round trips of a read (1) or a write (2) on the store, same client (limits.ts). */
  | { kind: 'limit'; store: StoreName }
  | { kind: 'peer'; store: 'memory' | 'redis' | 'cookie' }
  /**
   * Bare plus one middleware that does nothing, the framework's way (Fastify: an `onRequest` and an
   * `onSend` hook; Koa, Hono: `async (ctx, next) => { await next() }`; Express: `next()`): what any
   * session middleware costs a request before it does anything.
   */
  | { kind: 'middleware' }

/** A layer and the path its routes sit under in a server (`''` or `/name`). */
export interface Mount {
  prefix: string
  layer: Layer
}

/** A running server: its port, and how to stop it. */
export interface RunningServer {
  port: number
  close(): Promise<void>
}

/** Signs every library's cookie (the peers all sign; sessionbridge signs too, to compare alike). */
export const SECRET = 'sessionbridge-bench-secret-0123456789abcdef'

/** The counter the read and increment scenarios work on, as the handlers see it. */
export const asCount = (value: unknown): number => (typeof value === 'number' ? value : 0)

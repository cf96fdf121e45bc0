import { setMaxListeners } from 'node:events'
import { wallClock } from '@sessionbridge/core/adapter'
import { Pool } from 'undici'
import type { Transport } from './transport.ts'

/** Options of `undiciTransport`. */
export interface UndiciTransportOptions {
  /** Most sockets per server. @default 16 */
  connections?: number
  /** Requests pipelined per socket (1 = plain keep-alive). @default 1 */
  pipelining?: number
  /** How long an idle socket is kept, ms. @default 30000 */
  keepAliveTimeout?: number
  /** Time to connect, ms. @default 2000 */
  connectTimeout?: number
  /** Extra headers on every request. @default {} */
  headers?: Record<string, string>
}

/** How far apart (ms) the calls that share one deadline signal may start. */
const WINDOW_MS = 100
/** The longest timeout a timer can wait for (Node fires a longer one at once). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1 - WINDOW_MS

/**
 * The deadline signals of one transport: one `AbortController` for all calls with one timeout that
 * start within WINDOW_MS of each other (Node spends about 18k instructions making one, a tenth of a
 * read), aborted `timeout + WINDOW_MS` after its window opened. Every call of a window so has had its
 * whole timeout when the signal ends it, whether it waits in the pool's queue or on the server.
 */
function sharedDeadlines(): (timeout: number) => AbortSignal {
  const windows = new Map<number, { signal: AbortSignal; closes: number }>()
  return (timeout) => {
    const now = wallClock()
    const open = windows.get(timeout)
    if (open !== undefined && now < open.closes) return open.signal
    const window = Math.min(WINDOW_MS, timeout)
    const controller = new AbortController()
    // One listener per call in flight (undici removes each when its call ends): no leak to warn of.
    setMaxListeners(0, controller.signal)
    setTimeout(() => controller.abort(), timeout + window).unref()
    windows.set(timeout, { signal: controller.signal, closes: now + window })
    return controller.signal
  }
}

/** The `TimeoutError` the backend's `keepsTimeout` contract names, with undici's error as cause. */
function timeoutError(cause: unknown): Error {
  const error = new Error('request timed out', { cause })
  error.name = 'TimeoutError'
  return error
}

/**
 * HTTP through an undici `Pool` per server origin: kept-alive sockets, for throughput on Node.
 * Import it from `@sessionbridge/rest-sessions/undici` (the main entry stays free of Node APIs).
 */
export function undiciTransport(options: UndiciTransportOptions = {}): Transport {
  const resolved = Object.freeze({
    connections: options.connections ?? 16,
    pipelining: options.pipelining ?? 1,
    keepAliveTimeout: options.keepAliveTimeout ?? 30_000,
    connectTimeout: options.connectTimeout ?? 2000,
    headers: { ...options.headers },
  })
  for (const key of ['connections', 'pipelining', 'keepAliveTimeout', 'connectTimeout'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1)
      throw new RangeError(`${key} must be a positive integer`)
  }
  const pools = new Map<string, Pool>()
  const deadlineOf = sharedDeadlines()
  const poolFor = (origin: string) => {
    let pool = pools.get(origin)
    if (!pool) {
      pool = new Pool(origin, {
        connections: resolved.connections,
        pipelining: resolved.pipelining,
        keepAliveTimeout: resolved.keepAliveTimeout,
        connectTimeout: resolved.connectTimeout,
      })
      pools.set(origin, pool)
    }
    return pool
  }
  return {
    name: 'undici',
    // Ends each call itself (a signal shared by the calls of a window): none made per call.
    keepsTimeout: true,
    async request({ method, url, body, signal, timeout }) {
      const target = new URL(url)
      const headers: Record<string, string> = { ...resolved.headers, accept: 'application/json' }
      if (body !== undefined) headers['content-type'] = 'application/json'
      const deadline = signal ?? (timeout > 0 && timeout <= MAX_TIMEOUT_MS ? deadlineOf(timeout) : undefined)
      try {
        const response = await poolFor(target.origin).request({
          method,
          path: `${target.pathname}${target.search}`,
          headers,
          body,
          signal: deadline,
        })
        return { status: response.statusCode, body: await response.body.text() }
      } catch (error) {
        throw signal === undefined && deadline?.aborted ? timeoutError(error) : error
      }
    },
    async close() {
      const all = [...pools.values()]
      pools.clear()
      await Promise.all(all.map((pool) => pool.close()))
    },
  }
}

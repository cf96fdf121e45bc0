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

/** undici's errors for a request whose headers, or the next part of whose body, came too late. */
const isUndiciTimeout = (error: unknown): error is Error =>
  error instanceof Error &&
  'code' in error &&
  (error.code === 'UND_ERR_HEADERS_TIMEOUT' || error.code === 'UND_ERR_BODY_TIMEOUT')

/** The `TimeoutError` the backend's `keepsTimeout` contract names, with undici's error as cause. */
function timeoutError(cause: Error): Error {
  const error = new Error(`request timed out: ${cause.message}`, { cause })
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
    // undici's own timers end a request (headersTimeout, bodyTimeout): no AbortSignal per call.
    keepsTimeout: true,
    async request({ method, url, body, signal, timeout }) {
      const target = new URL(url)
      const headers: Record<string, string> = { ...resolved.headers, accept: 'application/json' }
      if (body !== undefined) headers['content-type'] = 'application/json'
      try {
        const response = await poolFor(target.origin).request({
          method,
          path: `${target.pathname}${target.search}`,
          headers,
          body,
          signal,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        })
        return { status: response.statusCode, body: await response.body.text() }
      } catch (error) {
        throw isUndiciTimeout(error) ? timeoutError(error) : error
      }
    },
    async close() {
      const all = [...pools.values()]
      pools.clear()
      await Promise.all(all.map((pool) => pool.close()))
    },
  }
}

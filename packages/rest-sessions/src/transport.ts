/** One HTTP exchange with the rest-sessions server. */
export interface TransportRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  /** Absolute URL. */
  url: string
  /** JSON text; sent with `Content-Type: application/json`. */
  body?: string
  /** Aborted when the backend's timeout passes; absent for a transport that keeps it (`Transport.keepsTimeout`). */
  signal?: AbortSignal
  /** The backend's timeout, ms: a transport that `keepsTimeout` ends the request once it has passed. */
  timeout: number
}

/** The status and the whole body text; no interpretation. */
export interface TransportResponse {
  status: number
  body: string
}

/**
 * How the backend talks HTTP. Throws for network failures (refused, reset, aborted); every
 * answer, whatever its status, is returned.
 */
export interface Transport {
  readonly name: string
  /**
   * Whether the transport ends each request itself once `timeout` has passed, rejecting with an
   * error named `TimeoutError`. The backend then makes no `AbortSignal` per call: Node spends about
   * 18k instructions making one, a tenth of a whole read. @default false (a signal per call)
   */
  readonly keepsTimeout?: boolean
  request(request: TransportRequest): Promise<TransportResponse>
  /** Releases pooled connections. */
  close?(): Promise<void>
}

/** Options of `fetchTransport`. */
export interface FetchTransportOptions {
  /** The fetch to use. @default globalThis.fetch, looked up at each call (so test interceptors apply) */
  fetch?: typeof fetch
  /** Extra headers on every request (e.g. authorization for a proxy in front of the server). @default {} */
  headers?: Record<string, string>
}

/** HTTP through the Fetch API: Node 20+, Deno, Bun, Cloudflare Workers and other edge runtimes. */
export function fetchTransport(options: FetchTransportOptions = {}): Transport {
  const resolved = Object.freeze({ fetch: options.fetch, headers: { ...options.headers } })
  return {
    name: 'fetch',
    async request({ method, url, body, signal }) {
      const doFetch = resolved.fetch ?? globalThis.fetch
      const headers: Record<string, string> = { ...resolved.headers, accept: 'application/json' }
      if (body !== undefined) headers['content-type'] = 'application/json'
      const response = await doFetch(url, { method, headers, body, signal })
      return { status: response.status, body: await response.text() }
    },
  }
}

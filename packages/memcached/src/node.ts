import type { Buffer } from 'node:buffer'
import { SessionBackendError } from '@sessionbridge/core'
import { MemcachedConnection } from './connection.ts'
import type { Reply } from './protocol.ts'

/** Timing and sizing shared by every node of a client (resolved by `createMemcachedClient`). */
export interface NodeSettings {
  /** Most sockets opened to one server. */
  maxConnections: number
  connectTimeout: number
  timeout: number
  /** Consecutive connection failures that mark a server dead. */
  failureThreshold: number
  /** First wait before a dead server is tried again; doubles per failed retry. */
  retryDelay: number
  maxRetryDelay: number
  now: () => number
}

/**
 * One memcached server: a small pool of pipelined connections and its health. Failures are
 * counted per connection (a failed connect, a dropped socket, a timeout, a malformed reply),
 * never per request, so fifty requests caught in one outage count once. Past the threshold the
 * node is dead: requests fail at once, without touching the network, until the retry delay has
 * passed; then the next request probes it, and each failed probe doubles the delay.
 */
export class MemcachedNode {
  readonly host: string
  readonly port: number
  readonly weight: number
  readonly #settings: NodeSettings
  readonly #connections: MemcachedConnection[] = []
  #connecting: Promise<MemcachedConnection> | null = null
  #failures = 0
  #deadRounds = 0
  #deadUntil = 0
  #closed = false

  constructor(host: string, port: number, weight: number, settings: NodeSettings) {
    this.host = host
    this.port = port
    this.weight = weight
    this.#settings = settings
  }

  /** `host:port`, the name the hash ring uses. */
  get label(): string {
    return `${this.host}:${this.port}`
  }

  /** False while the node is marked dead and its retry time has not come. */
  get available(): boolean {
    return this.#deadUntil === 0 || this.#deadUntil <= this.#settings.now()
  }

  /** Open sockets, for tests and metrics. */
  get connectionCount(): number {
    return this.#connections.length
  }

  /** Sends one command over the least busy connection. */
  async send(
    command: 'mg' | 'ms' | 'md' | 'mn',
    key: string,
    flags: string[],
    value?: Buffer,
  ): Promise<Reply> {
    if (this.#closed) throw new SessionBackendError('memcached', command, `${this.label}: client is closed`)
    // A live node's deadline is 0: no clock reading per command (about 200 instructions each).
    if (this.#deadUntil !== 0) {
      const wait = this.#deadUntil - this.#settings.now()
      if (wait > 0) {
        throw new SessionBackendError(
          'memcached',
          command,
          `${this.label}: server marked dead, next try in ${wait} ms`,
        )
      }
    }
    const connection = await this.#pick()
    const reply = await connection.send(command, key, flags, value)
    this.#failures = 0
    this.#deadRounds = 0
    this.#deadUntil = 0
    return reply
  }

  /** Closes every socket. Requests in flight fail. */
  close(): void {
    this.#closed = true
    for (const connection of this.#connections.splice(0)) connection.close()
  }

  #pick(): Promise<MemcachedConnection> | MemcachedConnection {
    let best: MemcachedConnection | null = null
    for (const connection of this.#connections) {
      if (!best || connection.inFlight < best.inFlight) best = connection
    }
    if (best && (best.inFlight === 0 || this.#connections.length >= this.#settings.maxConnections))
      return best
    if (this.#connecting) return best ?? this.#connecting
    const connecting = this.#connect()
    return best ?? connecting
  }

  #connect(): Promise<MemcachedConnection> {
    const attempt = MemcachedConnection.open({
      host: this.host,
      port: this.port,
      connectTimeout: this.#settings.connectTimeout,
      timeout: this.#settings.timeout,
      onClose: (error) => {
        const index = connection ? this.#connections.indexOf(connection) : -1
        if (index >= 0) this.#connections.splice(index, 1)
        if (error) this.#recordFailure()
      },
    })
    let connection: MemcachedConnection | undefined
    this.#connecting = attempt
    attempt.then(
      (opened) => {
        connection = opened
        this.#connecting = null
        if (this.#closed) opened.close()
        else this.#connections.push(opened)
      },
      () => {
        this.#connecting = null
        this.#recordFailure()
      },
    )
    return attempt
  }

  #recordFailure(): void {
    if (this.#closed) return
    this.#failures++
    if (this.#failures < this.#settings.failureThreshold) return
    const { retryDelay, maxRetryDelay, now } = this.#settings
    const delay = Math.min(maxRetryDelay, retryDelay * 2 ** Math.min(this.#deadRounds, 20))
    this.#deadRounds++
    this.#deadUntil = now() + delay
    for (const connection of this.#connections.splice(0)) connection.close()
  }
}

import type { Buffer } from 'node:buffer'
import { connect, type Socket } from 'node:net'
import { SessionBackendError, SessionTimeoutError } from '@sessionbridge/core'
import { encodeCommand, MalformedReplyError, type Reply, ReplyParser } from './protocol.ts'

/** Options of `openConnection`. */
export interface ConnectionOptions {
  host: string
  port: number
  /** Milliseconds to establish the TCP connection. */
  connectTimeout: number
  /** Milliseconds a command may wait for its reply; past it the connection is closed. */
  timeout: number
  /** Called once when the connection ends, with the reason when it failed. */
  onClose?: (error: Error | null) => void
}

interface InFlight {
  command: string
  opaque: string | null
  deadline: number
  resolve: (reply: Reply) => void
  reject: (error: Error) => void
}

/**
 * One socket to one memcached. Commands are pipelined: written as they come, their replies
 * matched first in, first out, and checked against the opaque token each command carries, so a
 * desynchronised stream is noticed instead of handing one request another's answer. A malformed
 * reply, a timeout or a socket error closes the connection and fails exactly the requests that
 * were in flight on it.
 */
export class MemcachedConnection {
  readonly #options: ConnectionOptions
  readonly #socket: Socket
  readonly #parser = new ReplyParser()
  readonly #queue: InFlight[] = []
  #head = 0
  #sequence = 0
  #corked = false
  #timer: ReturnType<typeof setTimeout> | null = null
  #closed = false

  private constructor(socket: Socket, options: ConnectionOptions) {
    this.#socket = socket
    this.#options = options
    socket.on('data', (chunk: Buffer) => this.#receive(chunk))
    socket.on('error', (error) => this.#fail(this.#error('socket', error.message, error)))
    socket.on('close', () => this.#fail(this.#error('socket', 'connection closed by the server')))
  }

  /** Opens a connection, or throws `SessionBackendError` when it cannot within `connectTimeout`. */
  static open(options: ConnectionOptions): Promise<MemcachedConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port, noDelay: true })
      const where = `${options.host}:${options.port}`
      const timer = setTimeout(() => {
        socket.destroy()
        reject(
          new SessionBackendError(
            'memcached',
            'connect',
            `${where}: no connection within ${options.connectTimeout} ms`,
          ),
        )
      }, options.connectTimeout)
      socket.once('error', (error) => {
        clearTimeout(timer)
        reject(
          new SessionBackendError('memcached', 'connect', `${where}: ${error.message}`, { cause: error }),
        )
      })
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        socket.setKeepAlive(true, 30_000)
        resolve(new MemcachedConnection(socket, options))
      })
    })
  }

  /** Requests written and not yet answered. */
  get inFlight(): number {
    return this.#queue.length - this.#head
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Writes one meta command and resolves with its reply (including `SERVER_ERROR` replies). */
  send(command: 'mg' | 'ms' | 'md' | 'mn', key = '', flags: string[] = [], value?: Buffer): Promise<Reply> {
    if (this.#closed) return Promise.reject(this.#error(command, 'connection is closed'))
    const opaque = command === 'mn' ? null : (++this.#sequence).toString(36)
    // Encoding validates the key: if it throws, nothing was written.
    const bytes = encodeCommand(command, key, opaque === null ? flags : [...flags, `O${opaque}`], value)
    return new Promise<Reply>((resolve, reject) => {
      this.#queue.push({ command, opaque, deadline: Date.now() + this.#options.timeout, resolve, reject })
      if (!this.#corked) {
        // Batch every command issued in this tick into one write.
        this.#corked = true
        this.#socket.cork()
        process.nextTick(() => {
          this.#corked = false
          this.#socket.uncork()
        })
      }
      this.#socket.write(bytes)
      if (!this.#timer) {
        this.#timer = setTimeout(() => this.#checkDeadline(), this.#options.timeout)
        this.#timer.unref()
      }
    })
  }

  /** Closes the socket; requests still in flight fail. */
  close(): void {
    this.#fail(this.#error('close', 'connection closed by the client'), false)
  }

  #receive(chunk: Buffer): void {
    try {
      this.#parser.push(chunk, (reply) => this.#deliver(reply))
    } catch (error) {
      this.#fail(this.#error('reply', `malformed reply: ${(error as Error).message}`, error))
    }
  }

  #deliver(reply: Reply): void {
    if (this.#closed) return
    const request = this.#queue[this.#head]
    if (!request) {
      this.#fail(
        this.#error('reply', 'malformed reply: an answer nobody asked for', new MalformedReplyError()),
      )
      return
    }
    const mismatch = this.#mismatch(request, reply)
    if (mismatch) {
      this.#fail(
        this.#error(request.command, `malformed reply: ${mismatch}`, new MalformedReplyError(mismatch)),
      )
      return
    }
    this.#queue[this.#head++] = undefined as unknown as InFlight
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head)
      this.#head = 0
    }
    request.resolve(reply)
    if (reply.kind === 'error' && reply.type !== 'SERVER_ERROR') {
      // ERROR / CLIENT_ERROR: the server misread our stream; what follows cannot be trusted.
      this.#fail(this.#error(request.command, `server answered ${reply.type} ${reply.message}`))
    }
  }

  #mismatch(request: InFlight, reply: Reply): string | null {
    if (reply.kind === 'error') return null
    if ((request.command === 'mn') !== (reply.status === 'MN'))
      return `${reply.status} in answer to ${request.command}`
    const opaque = reply.flags.get('O')
    if (opaque !== undefined && opaque !== request.opaque) return 'answer out of order (opaque mismatch)'
    return null
  }

  #checkDeadline(): void {
    this.#timer = null
    const request = this.#queue[this.#head]
    if (!request || this.#closed) return
    const wait = request.deadline - Date.now()
    if (wait > 0) {
      this.#timer = setTimeout(() => this.#checkDeadline(), wait)
      this.#timer.unref()
      return
    }
    // The oldest request is overdue; everything behind it waits on the same stream.
    this.#fail(new SessionTimeoutError('memcached', request.command, this.#options.timeout))
  }

  #fail(error: Error, report = true): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#socket.destroy()
    const pending = this.#queue.splice(this.#head)
    this.#queue.length = 0
    this.#head = 0
    for (const request of pending) request.reject(error)
    this.#options.onClose?.(report ? error : null)
  }

  #error(operation: string, message: string, cause?: unknown): SessionBackendError {
    const where = `${this.#options.host}:${this.#options.port}`
    return new SessionBackendError(
      'memcached',
      operation,
      `${where}: ${message}`,
      cause ? { cause } : undefined,
    )
  }
}

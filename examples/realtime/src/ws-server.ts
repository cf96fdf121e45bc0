import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import {
  SessionBackendError,
  SessionConfigError,
  type SessionLogger,
  type TicketPayload,
  type TicketStore,
  verifyTicket,
} from '@sessionbridge/core'
import { type WebSocket, WebSocketServer } from 'ws'

/** Options of `createRealtimeServer`. */
export interface RealtimeServerOptions {
  /** Where tickets were issued: the same store the web app's ticket route uses. */
  store: TicketStore
  /** Port to listen on when no `server` is given; `0` picks a free one. @default 0 */
  port?: number
  /** Interface to listen on when no `server` is given. @default '127.0.0.1' */
  host?: string
  /** An HTTP server to take websocket upgrades from; the caller listens on it and closes it. @default a new one */
  server?: Server
  /** Milliseconds the ticket store may take before the upgrade is refused with 503. @default 5000 */
  ticketTimeout?: number
  /** Largest message accepted from a client, bytes. @default 65536 */
  maxPayload?: number
  /** Called for every accepted connection, after the greeting. @default none */
  onConnection?: (socket: WebSocket, user: TicketPayload) => void
  /** Where store failures are reported. @default console */
  logger?: SessionLogger
}

/** A running realtime server. */
export interface RealtimeServer {
  /** The HTTP server the websocket upgrades arrive on. */
  readonly server: Server
  readonly wss: WebSocketServer
  /** `ws://host:port`, to which clients append `?ticket=...`. */
  readonly url: string
  /** The user of each open connection. */
  userOf(socket: WebSocket): TicketPayload | undefined
  /** Closes every connection, and the HTTP server if this module created it. */
  close(): Promise<void>
}

const PKG = 'example-realtime'
const REASONS = { 401: 'Unauthorized', 503: 'Service Unavailable' } as const

/** Ends a refused upgrade with a small JSON answer in the seed's shape. */
function refuse(socket: Duplex, status: 401 | 503, message: string): void {
  if (socket.destroyed) return
  const body = JSON.stringify({ status: 'error', message })
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** The `ticket` query parameter, or `null` (also for a request target that does not parse). */
function ticketOf(req: IncomingMessage): string | null {
  try {
    return new URL(req.url ?? '/', 'http://realtime.invalid').searchParams.get('ticket')
  } catch {
    return null
  }
}

/**
 * A websocket server that lets a client in only with a valid one-time ticket (`?ticket=...`),
 * issued by a web app for its logged-in user. A connection therefore knows its user from the
 * first frame: it is greeted with `{"type":"hello","userId":...,"username":...}`, and every text
 * message is echoed back signed with the username.
 */
export async function createRealtimeServer(options: RealtimeServerOptions): Promise<RealtimeServer> {
  const { store } = options ?? {}
  if (!store || typeof store.consume !== 'function') {
    throw new SessionConfigError(PKG, 'store', 'missing %s (a TicketStore)')
  }
  const resolved = Object.freeze({
    store,
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    ticketTimeout: options.ticketTimeout ?? 5000,
    maxPayload: options.maxPayload ?? 65_536,
    onConnection: options.onConnection ?? null,
    logger: options.logger ?? console,
  })
  const ownServer = !options.server
  const server =
    options.server ??
    createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'application/json', Upgrade: 'websocket' })
      res.end(JSON.stringify({ status: 'error', message: 'websocket upgrade required' }))
    })
  const wss = new WebSocketServer({ noServer: true, maxPayload: resolved.maxPayload })
  const users = new WeakMap<WebSocket, TicketPayload>()

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()) // a client vanishing mid-handshake is not our failure
    let user: TicketPayload | null
    try {
      user = await verifyTicket(resolved.store, ticketOf(req), { timeout: resolved.ticketTimeout })
    } catch (error) {
      if (!(error instanceof SessionBackendError)) throw error
      resolved.logger.warn(`[sessionbridge/${PKG}] ${error.message}`)
      return refuse(socket, 503, 'ticket store unavailable, try again later')
    }
    if (!user) return refuse(socket, 401, 'a valid ticket is required')
    if (socket.destroyed) return
    const who = user
    wss.handleUpgrade(req, socket, head, (ws) => {
      users.set(ws, who)
      ws.send(JSON.stringify({ type: 'hello', userId: who.userId, username: who.username }))
      ws.on('message', (data, isBinary) => {
        if (isBinary) return
        ws.send(JSON.stringify({ type: 'echo', username: who.username, text: data.toString() }))
      })
      resolved.onConnection?.(ws, who)
    })
  }
  const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(req, socket, head).catch((error: unknown) => {
      resolved.logger.warn(`[sessionbridge/${PKG}] upgrade failed: ${String(error)}`)
      socket.destroy()
    })
  }
  server.on('upgrade', listener)

  if (ownServer) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(resolved.port, resolved.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  }
  const address = server.address() as AddressInfo | null
  const host = address?.family === 'IPv6' ? `[${address.address}]` : (address?.address ?? resolved.host)

  return {
    server,
    wss,
    url: `ws://${host}:${address?.port ?? resolved.port}`,
    userOf: (socket) => users.get(socket),
    async close() {
      server.off('upgrade', listener)
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      if (ownServer) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

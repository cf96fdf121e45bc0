import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'

/** What the proxy does with traffic. */
export type FaultMode =
  /** Forward bytes both ways (after `delayMs`, if set). */
  | 'pass'
  /** Accept connections but forward nothing until `pass()` (bytes are held, not lost): a frozen server. */
  | 'blackhole'
  /** Reset every open connection and every new one at once: a crashed server. */
  | 'reset'

/** Options of `createFaultProxy`. */
export interface FaultProxyOptions {
  /** The real server, `host:port`. */
  target: string
  /** Port to listen on; `0` picks a free one, kept across `stop()`/`start()`. @default 0 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
}

/** A TCP proxy in front of a real server that can slow, hang, reset, stop and restart it. */
export interface FaultProxy {
  /** The listening port (stable across restarts). */
  readonly port: number
  /** `host:port` of the proxy, to hand to a client instead of the real server. */
  readonly address: string
  /** Connections currently open through the proxy. */
  readonly connections: number
  readonly mode: FaultMode
  /** Forward traffic again (also clears black-hole and reset; keeps `delayMs`). */
  pass(): void
  /** Delay every chunk, both ways, by `ms` (order is kept). `0` removes the delay. */
  delay(ms: number): void
  /** Hang like a frozen server: bytes are held (not lost) until `pass()`; new connections are accepted. */
  blackhole(): void
  /** Reset open connections now and every new one until `pass()`. */
  reset(): void
  /** Stop listening and drop every connection: "the server was stopped". */
  stop(): Promise<void>
  /** Listen again on the same port: "the server came back". Mode becomes `pass`. */
  start(): Promise<void>
  /** Stop for good. */
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Starts a fault proxy listening on `options.port` and forwarding to `options.target`. */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const [targetHost, targetPortText] = splitHostPort(options.target)
  const targetPort = Number(targetPortText)
  const host = options.host ?? '127.0.0.1'
  let port = options.port ?? 0
  let mode: FaultMode = 'pass'
  let delayMs = 0
  let server: Server | null = null
  const sockets = new Set<Socket>()

  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  }

  // Black-hole = a frozen server (SIGSTOP): bytes are held, as TCP would keep retransmitting them,
  // and flow again in order once the proxy passes. Dropping them would desynchronise the protocol.
  let held: Promise<void> | null = null
  let release: () => void = () => {}
  const gate = () => (mode === 'blackhole' && held ? held : Promise.resolve())

  /** Copies `from` to `to`, chunk by chunk and in order, through the gate and the delay. */
  const pipe = (from: Socket, to: Socket) => {
    let chain = Promise.resolve()
    const later = (step: () => void) => {
      chain = chain
        .then(gate)
        .then(() => (delayMs > 0 ? sleep(delayMs) : undefined))
        .then(() => {
          if (!to.destroyed) step()
        })
    }
    from.on('data', (chunk: Buffer) => later(() => to.write(chunk)))
    from.once('end', () => later(() => to.end()))
    from.once('close', () => {
      chain.then(() => to.destroy())
    })
  }

  const onConnection = (client: Socket) => {
    track(client)
    if (mode === 'reset') {
      client.resetAndDestroy()
      return
    }
    client.pause()
    const upstream = connect({ host: targetHost, port: targetPort })
    track(upstream)
    upstream.once('connect', () => {
      gate().then(() => client.resume())
    })
    upstream.once('error', () => client.destroy())
    pipe(client, upstream)
    pipe(upstream, client)
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(onConnection)
      s.once('error', reject)
      s.listen({ port, host, exclusive: true }, () => {
        s.off('error', reject)
        port = (s.address() as AddressInfo).port
        server = s
        resolve()
      })
    })

  const unhold = () => {
    held = null
    release()
  }

  const stopListening = async () => {
    unhold()
    const s = server
    server = null
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  await listen()

  return {
    get port() {
      return port
    },
    get address() {
      return `${host}:${port}`
    },
    get connections() {
      return sockets.size
    },
    get mode() {
      return mode
    },
    pass() {
      mode = 'pass'
      unhold()
    },
    delay(ms) {
      delayMs = ms
    },
    blackhole() {
      mode = 'blackhole'
      held ??= new Promise<void>((resolve) => {
        release = resolve
      })
    },
    reset() {
      mode = 'reset'
      unhold()
      for (const socket of sockets) socket.resetAndDestroy()
      sockets.clear()
    },
    stop: stopListening,
    async start() {
      mode = 'pass'
      if (!server) await listen()
    },
    close: stopListening,
  }
}

function splitHostPort(address: string): [string, string] {
  const stripped = address.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '')
  const colon = stripped.lastIndexOf(':')
  if (colon <= 0) throw new Error(`fault proxy target "${address}" must be host:port`)
  return [stripped.slice(0, colon).replace(/^\[|\]$/g, ''), stripped.slice(colon + 1)]
}

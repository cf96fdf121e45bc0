import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { randomString } from '@sessionbridge/core/adapter'
import { SERVICE_URLS } from '@sessionbridge/test-services'
import { Redis } from 'ioredis'
import { createClient, type RedisClientType } from 'redis'
import { ioredisAdapter, nodeRedisAdapter, type RedisCommands } from '../src/index.ts'

/** A key prefix of our own, so parallel suites on the shared Redis never meet. */
export const testPrefix = (what: string) =>
  `sbt:redis:${randomString(10, 'abcdefghijklmnopqrstuvwxyz0123456789')}:${what}:`

/** node-redis that fails commands at once when the connection is gone, instead of queueing them. */
export async function nodeClient(url = SERVICE_URLS.redis): Promise<RedisClientType> {
  const client: RedisClientType = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: false, connectTimeout: 2000 },
  })
  client.on('error', () => {}) // surfaced through rejected commands
  await client.connect()
  return client
}

/** ioredis configured the same way: no offline queue, no retries, no reconnect. */
export async function ioClient(url = SERVICE_URLS.redis): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  await client.connect()
  return client
}

/** Both adapters over fresh connections, for suites that run once per client library. */
export interface AdapterCase {
  name: string
  open(url?: string): Promise<{ commands: RedisCommands; close(): Promise<void> }>
}

export const ADAPTERS: AdapterCase[] = [
  {
    name: 'node-redis',
    async open(url) {
      const client = await nodeClient(url)
      return {
        commands: nodeRedisAdapter(client),
        close: async () => void (client.isOpen && client.destroy()),
      }
    },
  },
  {
    name: 'ioredis',
    async open(url) {
      const client = await ioClient(url)
      return { commands: ioredisAdapter(client), close: async () => client.disconnect() }
    },
  },
]

/** Deletes every key under `prefix` (SCAN, never FLUSH: others share this Redis). */
export async function deleteKeys(commands: RedisCommands, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const reply = (await commands.send('', ['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [
      string,
      string[],
    ]
    cursor = reply[0]
    if (reply[1].length > 0) await commands.send('', ['UNLINK', ...reply[1]])
  } while (cursor !== '0')
}

/** A TCP proxy in front of Redis that a test can cut, to lose the server mid-run without stopping it. */
export async function cuttableProxy(target = SERVICE_URLS.redis) {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const server: Server = createServer((inbound) => {
    const outbound = connect({ host: hostname, port: Number(port) })
    for (const s of [inbound, outbound]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `redis://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    /** Drops every connection and refuses new ones. */
    async cut() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    /** Keeps connections open but stops forwarding: the server "hangs". */
    stall() {
      for (const s of sockets) {
        s.unpipe()
        s.pause()
      }
    },
  }
}

/** A port nothing listens on: bound, then closed again. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `redis://127.0.0.1:${port}`
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

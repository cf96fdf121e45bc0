import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { memoryTicketStore, SessionConfigError, type TicketStore } from '@sessionbridge/core'
import { randomToken } from '@sessionbridge/core/adapter'
import { nodeRedisAdapter, redisTicketStore } from '@sessionbridge/redis'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { createClient, type RedisClientType } from 'redis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { createRealtimeServer } from '../src/ws-server.ts'

const redisUp = await serviceAvailable('redis')
const alice = { userId: '42', username: 'alice' }

type Attempt =
  | { accepted: true; socket: WebSocket; hello: unknown }
  | { accepted: false; status: number; body: unknown }

/** Opens a real websocket client and reports the greeting, or the HTTP answer of a refused upgrade. */
function attempt(url: string): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url)
    socket.once('message', (data) => resolve({ accepted: true, socket, hello: JSON.parse(data.toString()) }))
    socket.once('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString()
      })
      res.on('end', () => resolve({ accepted: false, status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    socket.once('error', reject)
  })
}
const nextMessage = (socket: WebSocket) =>
  new Promise<unknown>((resolve) => socket.once('message', (data) => resolve(JSON.parse(data.toString()))))

async function redisClient(): Promise<RedisClientType> {
  const client: RedisClientType = createClient({
    url: SERVICE_URLS.redis,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: false, connectTimeout: 2000 },
  })
  client.on('error', () => {})
  await client.connect()
  return client
}

const stores: {
  name: string
  skip: boolean
  make: () => Promise<{ store: TicketStore; close(): Promise<void> }>
}[] = [
  { name: 'memory', skip: false, make: async () => ({ store: memoryTicketStore(), close: async () => {} }) },
  {
    name: 'redis',
    skip: !redisUp,
    async make() {
      const client = await redisClient()
      const prefix = `sbt:redis:${randomToken(16)}:realtime:`
      return {
        store: redisTicketStore({ client: nodeRedisAdapter(client), prefix }),
        close: async () => client.destroy(),
      }
    },
  },
]

for (const kind of stores) {
  describe.skipIf(kind.skip)(`realtime server with the ${kind.name} ticket store`, () => {
    let store: TicketStore
    let closeStore: () => Promise<void>
    let server: Awaited<ReturnType<typeof createRealtimeServer>>
    beforeAll(async () => {
      ;({ store, close: closeStore } = await kind.make())
      server = await createRealtimeServer({ store })
    })
    afterAll(async () => {
      await server.close()
      await closeStore()
    })

    it('accepts a valid ticket, greets the user by name and knows them on every message', async () => {
      const ticket = await store.issue({ ...alice, room: 'lobby' }, 10_000)
      const result = await attempt(`${server.url}/?ticket=${ticket}`)
      if (!result.accepted) throw new Error(`refused with ${result.status}`)
      expect(result.hello).toEqual({ type: 'hello', userId: '42', username: 'alice' })
      const [client] = server.wss.clients
      expect(server.userOf(client!)).toEqual({ ...alice, room: 'lobby' })
      result.socket.send('hi')
      expect(await nextMessage(result.socket)).toEqual({ type: 'echo', username: 'alice', text: 'hi' })
      result.socket.close()
    })

    it('refuses with 401 a missing, malformed, forged, replayed or expired ticket', async () => {
      const used = await store.issue(alice, 10_000)
      const first = await attempt(`${server.url}/?ticket=${used}`)
      if (first.accepted) first.socket.close()
      const expired = await store.issue(alice, 50)
      await new Promise((resolve) => setTimeout(resolve, 150))
      for (const query of [
        '',
        '?ticket=',
        '?ticket=..%2F..',
        `?ticket=${'a'.repeat(5000)}`,
        `?ticket=${randomToken(24)}`,
        `?ticket=${used}`,
        `?ticket=${expired}`,
      ]) {
        const result = await attempt(`${server.url}/${query}`)
        expect(result.accepted, `accepted ${query.slice(0, 40)}`).toBe(false)
        if (!result.accepted) {
          expect(result.status).toBe(401)
          expect(result.body).toEqual({ status: 'error', message: 'a valid ticket is required' })
        }
      }
    })

    it('lets exactly one of 20 clients in with the same ticket', async () => {
      const ticket = await store.issue(alice, 10_000)
      const results = await Promise.all(
        Array.from({ length: 20 }, () => attempt(`${server.url}/?ticket=${ticket}`)),
      )
      const accepted = results.filter((r) => r.accepted)
      expect(accepted).toHaveLength(1)
      expect(results.filter((r) => !r.accepted && r.status === 401)).toHaveLength(19)
      for (const r of accepted) if (r.accepted) r.socket.close()
    })
  })
}

describe.skipIf(!redisUp)('realtime server when the ticket store is down', () => {
  it('refuses the upgrade with 503 and warns', async () => {
    const prefix = `sbt:redis:${randomToken(16)}:rt-down:`
    const client = await redisClient()
    const store = redisTicketStore({
      client: nodeRedisAdapter(client),
      prefix,
    })
    const ticket = await store.issue(alice, 10_000)
    client.destroy() // a real client whose connection is gone
    const warn = vi.fn()
    const server = await createRealtimeServer({ store, logger: { warn } })
    try {
      const result = await attempt(`${server.url}/?ticket=${ticket}`)
      expect(result.accepted).toBe(false)
      if (!result.accepted) expect(result.status).toBe(503)
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/redis\] consume failed/))
    } finally {
      await server.close()
      // The ticket was never consumed: redeem it through a healthy connection so no key is left behind.
      const healthy = await redisClient()
      expect(await redisTicketStore({ client: nodeRedisAdapter(healthy), prefix }).consume(ticket)).toEqual(
        alice,
      )
      healthy.destroy()
    }
  })
})

describe('realtime server setup', () => {
  it('attaches to an existing HTTP server and leaves it running', async () => {
    const http = createServer((_req, res) => res.end('page'))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const store = memoryTicketStore()
    const realtime = await createRealtimeServer({ store, server: http })
    try {
      const { port } = http.address() as AddressInfo
      const ticket = await store.issue(alice, 10_000)
      const result = await attempt(`ws://127.0.0.1:${port}/ws?ticket=${ticket}`)
      expect(result.accepted).toBe(true)
      if (result.accepted) result.socket.close()
      await realtime.close()
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('page')
    } finally {
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  })

  it('answers 426 to plain HTTP and fails at startup without a store', async () => {
    const realtime = await createRealtimeServer({ store: memoryTicketStore() })
    try {
      const response = await fetch(realtime.url.replace('ws://', 'http://'))
      expect(response.status).toBe(426)
    } finally {
      await realtime.close()
    }
    await expect(createRealtimeServer({} as never)).rejects.toBeInstanceOf(SessionConfigError)
  })
})

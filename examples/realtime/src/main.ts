/**
 * The realtime example: a Fastify page that, for a logged-in user, asks `POST /ticket` for a
 * one-time ticket and opens a websocket to the `ws` server, which greets the user by name.
 *
 * Sessions and tickets live in this process (memory) unless REDIS_URL is set. Ports: PAGE_PORT
 * (default 3010) and WS_PORT (default 3011).
 */
import {
  memoryBackend,
  memoryTicketStore,
  memoryUserSource,
  type SessionBackend,
  type TicketStore,
} from '@sessionbridge/core'
import { nodeRedisAdapter, redisBackend, redisTicketStore } from '@sessionbridge/redis'
import { createClient } from 'redis'
import { createPageApp } from './page.ts'
import { createRealtimeServer } from './ws-server.ts'

const HOST = '127.0.0.1'
const port = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 0 || value > 65_535)
    throw new Error(`${name} must be a port number`)
  return value
}

async function main(): Promise<void> {
  const users = memoryUserSource({
    users: [{ id: 1, username: 'demo', email: 'demo@example.com', password: 'demo-password' }],
  })
  let backend: SessionBackend = memoryBackend()
  let tickets: TicketStore = memoryTicketStore()
  let closeRedis = async () => {}
  if (process.env.REDIS_URL) {
    const client = createClient({ url: process.env.REDIS_URL })
    client.on('error', () => {})
    await client.connect()
    backend = redisBackend({ client: nodeRedisAdapter(client), prefix: 'realtime:sess:' })
    tickets = redisTicketStore({ client: nodeRedisAdapter(client), prefix: 'realtime:ticket:' })
    closeRedis = async () => void (await client.close())
  }

  const realtime = await createRealtimeServer({ store: tickets, port: port('WS_PORT', 3011), host: HOST })
  const page = createPageApp({ backend, users, tickets, wsUrl: () => realtime.url })
  await page.listen({ port: port('PAGE_PORT', 3010), host: HOST })
  const address = page.server.address()
  const pagePort = address && typeof address === 'object' ? address.port : 0
  console.log(`realtime example: sessions and tickets in ${process.env.REDIS_URL ? 'redis' : 'memory'}`)
  console.log(`  page       http://${HOST}:${pagePort}/  (log in as demo / demo-password)`)
  console.log(`  websocket  ${realtime.url}/?ticket=...`)

  let stopping = false
  const shutdown = async () => {
    if (stopping) return
    stopping = true
    await Promise.allSettled([page.close(), realtime.close()])
    await closeRedis()
    process.exit(0)
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})

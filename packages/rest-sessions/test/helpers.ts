import { randomBytes } from 'node:crypto'
import type { SessionRecord } from '@sessionbridge/core'
import { createServer, type RestSessionsServer } from '@sessionbridge/rest-sessions-server'
import { SERVICE_URLS } from '@sessionbridge/test-services'
import { createClient } from 'redis'
import type { Transport } from '../src/index.ts'
import { fetchTransport } from '../src/transport.ts'
import { undiciTransport } from '../src/undici.ts'

export const HOUR = 3_600_000
/** Every transport the backend ships, each test file runs once per entry. */
export const transports: Array<[string, () => Transport]> = [
  ['fetch', () => fetchTransport()],
  ['undici', () => undiciTransport({ connections: 16 })],
]
let users = 0
/** A session record of a new user, valid for an hour. */
export const record = (data: Record<string, unknown>): SessionRecord => {
  const userId = `u${++users}`
  return { data: { _auth_user_id: userId, ...data }, expiresAt: Date.now() + HOUR, userId }
}

/**
 * A rest-sessions server in this process, on a free port, under a namespace of its own. `strict`
 * makes it behave as the original 2.0.1 server (no extensions, non-atomic set, fixed ttl).
 */
export async function startServer({ strict = false } = {}): Promise<{
  server: RestSessionsServer
  url: string
  namespace: string
  stop(): Promise<void>
}> {
  const redis = new URL(SERVICE_URLS.redis)
  const namespace = `sbt-rs-${randomBytes(6).toString('hex')}`
  const server = await createServer({
    redisHost: redis.hostname,
    redisPort: Number(redis.port || 6379),
    namespace,
    logLevel: 'none',
    wipeInterval: 0,
    strict,
  })
  const url = await server.listen({ port: 0 })
  return {
    server,
    url,
    namespace,
    async stop() {
      await server.close()
      const client = createClient({ url: SERVICE_URLS.redis })
      client.on('error', () => undefined)
      await client.connect()
      for await (const keys of client.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
        if (keys.length > 0) await client.del(keys)
      }
      await client.close()
    },
  }
}

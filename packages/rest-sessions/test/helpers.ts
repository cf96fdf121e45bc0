import { randomBytes } from 'node:crypto'
import { createServer, type RestSessionsServer } from '@sessionbridge/rest-sessions-server'
import { SERVICE_URLS } from '@sessionbridge/test-services'
import { createClient } from 'redis'

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

import { randomString } from '@sessionbridge/core/adapter'
import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { createClient } from 'redis'
import { describe } from 'vitest'
import { describeFaults } from '../src/faults.ts'

const available = await serviceAvailable('redis')
const prefix = `sbt:rel:${randomString(8, 'abcdefghijklmnopqrstuvwxyz')}:`

describe.skipIf(!available)('redis', () => {
  describeFaults({
    name: 'redis',
    server: new URL(SERVICE_URLS.redis).host,
    async open(address) {
      // Defaults except a quick reconnect: the client must come back by itself.
      const client = createClient({
        url: `redis://${address}`,
        socket: { connectTimeout: 1000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 500) },
      })
      client.on('error', () => {})
      await client.connect()
      return {
        backend: redisBackend({ client: nodeRedisAdapter(client), prefix, logger: { warn() {} } }),
        close: async () => void (client.isOpen && client.destroy()),
      }
    },
  })
})

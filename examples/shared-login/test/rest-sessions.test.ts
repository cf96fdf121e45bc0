import { createServer, type RestSessionsServer } from '@sessionbridge/rest-sessions-server'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe } from 'vitest'
import { sharedLoginSuite } from './contract-suite.ts'

describe.skipIf(!(await serviceAvailable('redis')))('rest-sessions', () => {
  let service: RestSessionsServer | undefined
  afterAll(async () => {
    await service?.close()
  })
  sharedLoginSuite(
    'rest-sessions (a real service on Redis)',
    async () => {
      const redis = new URL(SERVICE_URLS.redis)
      service = await createServer({
        redisHost: redis.hostname,
        redisPort: Number(redis.port || 6379),
        namespace: 'sb-example-shared-login',
        logLevel: 'none',
      })
      const url = await service.listen({ port: 0, host: '127.0.0.1' })
      return { SESSION_BACKEND: 'rest-sessions', SESSION_URL: url, SESSION_APP: 'sharedlogin' }
    },
    false,
  )
})

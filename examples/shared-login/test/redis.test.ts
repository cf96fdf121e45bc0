import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { describe } from 'vitest'
import { sharedLoginSuite } from './contract-suite.ts'

describe.skipIf(!(await serviceAvailable('redis')))('Redis', () => {
  sharedLoginSuite('redis', async () => ({ SESSION_BACKEND: 'redis', REDIS_URL: SERVICE_URLS.redis }), false)
})

import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { describe } from 'vitest'
import { sharedLoginSuite } from './contract-suite.ts'

describe.skipIf(!(await serviceAvailable('memcached')))('memcached', () => {
  sharedLoginSuite(
    'memcached',
    async () => ({ SESSION_BACKEND: 'memcached', MEMCACHED_SERVERS: SERVICE_URLS.memcached }),
    false,
  )
})

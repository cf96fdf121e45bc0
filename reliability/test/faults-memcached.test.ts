import { memcachedBackend } from '@sessionbridge/memcached'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { describe } from 'vitest'
import { describeFaults } from '../src/faults.ts'
import { relPrefix } from '../src/services.ts'

const available = await serviceAvailable('memcached')
const prefix = relPrefix('faults')

/** The backend with its own command timeout; quick retries so recovery after a restart is prompt. */
async function open(address: string, timeout: number) {
  const backend = memcachedBackend({
    servers: [address],
    prefix,
    timeout,
    connectTimeout: 1000,
    retryDelay: 100,
    maxRetryDelay: 500,
    logger: { warn() {} },
  })
  return { backend, close: async () => backend.close?.() }
}

describe.skipIf(!available)('memcached', () => {
  describeFaults({
    name: 'memcached',
    server: SERVICE_URLS.memcached.split(',')[0]!.trim(),
    open: (address) => open(address, 1000),
    ownTimeout: { ms: 300, open: (address) => open(address, 300) },
  })
})

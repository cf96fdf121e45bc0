import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe } from 'vitest'
import { restBackend, startRestSessions } from '../src/backends.ts'
import { describeFaults } from '../src/faults.ts'

// The rest-sessions server keeps its data in Redis.
const available = await serviceAvailable('redis')

describe.skipIf(!available)('rest-sessions', () => {
  let server: Awaited<ReturnType<typeof startRestSessions>>
  beforeAll(async () => {
    server = await startRestSessions()
  })
  afterAll(async () => {
    await server?.stop()
  })
  describeFaults({
    name: 'rest-sessions',
    server: () => server.host,
    // The backend's own timeout (2 s) sits above core's 400 ms.
    open: async (address) => ({ backend: restBackend(`http://${address}`), close: async () => {} }),
    ownTimeout: {
      ms: 300,
      open: async (address) => ({ backend: restBackend(`http://${address}`, 300), close: async () => {} }),
    },
  })
})

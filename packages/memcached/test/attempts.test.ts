import { SessionBackendError } from '@sessionbridge/core'
import { testAttemptStore } from '@sessionbridge/core/testing'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, memcachedAttemptStore } from '../src/index.ts'
import { testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')
const servers = SERVICE_URLS.memcached.split(',')

describe.skipIf(!up)('memcachedAttemptStore on the shared memcached', () => {
  const client = createMemcachedClient({ servers, maxConnections: 8 })
  const prefix = testPrefix('attempts')
  afterAll(() => client.close())

  testAttemptStore({ name: 'memcached', store: () => memcachedAttemptStore({ client, prefix }) })

  it('stores one item per counter that expires with its window', async () => {
    const store = memcachedAttemptStore({ client, prefix })
    await store.hit('u:item', 30_000)
    const item = await client.get(`${prefix}u:item`)
    expect(item?.value).toMatch(/^1:[0-9]+$/)
    expect(item!.ttl).toBeGreaterThan(25)
    expect(item!.ttl).toBeLessThanOrEqual(30)
  })
})

describe('memcachedAttemptStore failures', () => {
  it('throws SessionBackendError when the server is down (frameworks answer 503)', async () => {
    const down = memcachedAttemptStore({ servers: ['127.0.0.1:11319'], connectTimeout: 500 })
    await expect(down.hit('u:a', 1000)).rejects.toBeInstanceOf(SessionBackendError)
    await down.close()
  })
})

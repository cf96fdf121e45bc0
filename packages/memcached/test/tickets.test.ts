import { SessionBackendError, type TicketPayload } from '@sessionbridge/core'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, memcachedTicketStore } from '../src/index.ts'
import { testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')
const servers = SERVICE_URLS.memcached.split(',')
const payload: TicketPayload = { userId: '42', username: 'ada', room: 'lobby' }

describe.skipIf(!up)('memcachedTicketStore on the shared memcached', () => {
  const client = createMemcachedClient({ servers, maxConnections: 8 })
  const store = memcachedTicketStore({ client, prefix: testPrefix('tickets') })
  afterAll(() => client.close())

  it('issues an opaque 192-bit ticket and gives its payload back once', async () => {
    const ticket = await store.issue(payload, 10_000)
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(await store.consume(ticket)).toEqual(payload)
    expect(await store.consume(ticket)).toBeNull() // replayed
  })

  it('lets exactly one of 1,000 concurrent consumers win', async () => {
    for (let round = 0; round < 3; round++) {
      const ticket = await store.issue(payload, 10_000)
      const results = await Promise.all(Array.from({ length: 1000 }, () => store.consume(ticket)))
      expect(results.filter((r) => r !== null)).toEqual([payload])
    }
  })

  it('honours expiry to the millisecond, not memcached whole seconds', async () => {
    const ticket = await store.issue(payload, 300)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(await store.consume(ticket)).toBeNull()
  })

  it('refuses forged and malformed tickets without a server error', async () => {
    for (const forged of [
      '',
      'short',
      'A'.repeat(32),
      'a'.repeat(33),
      'abc\r\nflush_all',
      `${'a'.repeat(31)} `,
    ]) {
      expect(await store.consume(forged)).toBeNull()
    }
    expect(await store.consume(42 as unknown as string)).toBeNull()
  })

  it('throws SessionBackendError when the store is down (frameworks answer 503)', async () => {
    const down = memcachedTicketStore({ servers: ['127.0.0.1:11319'], connectTimeout: 500 })
    await expect(down.issue(payload, 10_000)).rejects.toBeInstanceOf(SessionBackendError)
    await expect(down.consume('A'.repeat(32))).rejects.toBeInstanceOf(SessionBackendError)
    await down.close()
  })
})

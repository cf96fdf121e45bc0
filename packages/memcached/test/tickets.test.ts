import { createHash } from 'node:crypto'
import { SessionBackendError, SessionDataError, type TicketPayload } from '@sessionbridge/core'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, memcachedTicketStore } from '../src/index.ts'
import { testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')
const servers = SERVICE_URLS.memcached.split(',')
const payload: TicketPayload = { userId: '42', username: 'ada', room: 'lobby' }

describe.skipIf(!up)('memcachedTicketStore on the shared memcached', () => {
  const client = createMemcachedClient({ servers, maxConnections: 8 })
  const prefix = testPrefix('tickets')
  const store = memcachedTicketStore({ client, prefix })
  const userKey = (userId: string) => `${prefix}user:${createHash('sha256').update(userId).digest('hex')}`
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

  it("revokeUser voids the user's unconsumed tickets and no one else's (issue 14.11)", async () => {
    const mine = [await store.issue(payload, 10_000), await store.issue({ ...payload, room: 'x' }, 10_000)]
    const other = await store.issue({ userId: '421', username: 'bob' }, 10_000)
    await store.revokeUser('42')
    for (const ticket of mine) expect(await store.consume(ticket)).toBeNull()
    expect(await store.consume(other)).toMatchObject({ username: 'bob' })
    // Tickets issued after the logout work again.
    const fresh = await store.issue(payload, 10_000)
    expect(await store.consume(fresh)).toEqual(payload)
    await store.revokeUser('nobody') // nothing to revoke is no error
  })

  it("keeps the user's generation alive as long as the user's newest ticket; without it, tickets are void", async () => {
    const user = { userId: `gen-${Math.random()}`, username: 'gen' }
    const long = await store.issue(user, 60_000)
    const short = await store.issue(user, 1_000) // must not shorten the generation's lifetime
    const generation = await client.get(userKey(user.userId))
    expect(generation?.ttl).toBeGreaterThanOrEqual(55)
    expect(await store.consume(short)).toEqual(user)
    // Evicted (or its server restarted): the ticket fails closed.
    await client.delete(userKey(user.userId))
    expect(await store.consume(long)).toBeNull()
  })

  it('refuses a ticket stored without a generation (made before revocation existed)', async () => {
    const ticket = 'B'.repeat(32)
    const value = JSON.stringify({ e: Date.now() + 10_000, p: payload })
    await client.set(prefix + ticket, value, { exptime: 10 })
    expect(await store.consume(ticket)).toBeNull()
  })

  it('refuses a payload without string userId and username at issue', async () => {
    const bad = { userId: 42, username: 'x' } as unknown as TicketPayload
    await expect(store.issue(bad, 10_000)).rejects.toBeInstanceOf(SessionDataError)
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
    await expect(down.revokeUser('42')).rejects.toBeInstanceOf(SessionBackendError)
    await down.close()
  })
})

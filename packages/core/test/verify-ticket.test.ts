import { describe, expect, it } from 'vitest'
import { randomToken } from '../src/adapter.ts'
import {
  memoryTicketStore,
  SessionBackendError,
  SessionTimeoutError,
  type TicketPayload,
  type TicketStore,
  verifyTicket,
} from '../src/index.ts'

const alice: TicketPayload = { userId: '42', username: 'alice', room: 'lobby' }

/** A store whose consume does what the test says, counting calls. */
function fakeStore(consume: (ticket: string) => Promise<TicketPayload | null>) {
  const calls: string[] = []
  const store: TicketStore = {
    name: 'fake',
    issue: async () => randomToken(),
    consume: (ticket) => {
      calls.push(ticket)
      return consume(ticket)
    },
  }
  return { store, calls }
}

describe('verifyTicket', () => {
  it('returns the payload, extras included, exactly once', async () => {
    const store = memoryTicketStore()
    const ticket = await store.issue(alice, 10_000)
    expect(await verifyTicket(store, ticket)).toEqual(alice)
    expect(await verifyTicket(store, ticket)).toBeNull()
  })

  it('1,000 concurrent consumers race for one memory ticket: exactly one wins', async () => {
    const store = memoryTicketStore()
    const ticket = await store.issue(alice, 10_000)
    const results = await Promise.all(Array.from({ length: 1000 }, () => verifyTicket(store, ticket)))
    expect(results.filter((r) => r !== null)).toEqual([alice])
  })

  it('honours the expiry', async () => {
    let now = 1_000_000
    const store = memoryTicketStore({ now: () => now })
    const ticket = await store.issue(alice, 10_000)
    now += 10_000
    expect(await verifyTicket(store, ticket)).toBeNull()
  })

  it('refuses forged tickets', async () => {
    const store = memoryTicketStore()
    const real = await store.issue(alice, 10_000)
    expect(await verifyTicket(store, randomToken(24))).toBeNull()
    expect(await verifyTicket(store, `${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`)).toBeNull()
    expect(await verifyTicket(store, real)).toEqual(alice)
  })

  it('answers null for malformed input without asking the store', async () => {
    const { store, calls } = fakeStore(async () => alice)
    const bad: unknown[] = [
      undefined,
      null,
      42,
      {},
      ['x'.repeat(32)],
      '',
      'short',
      'a'.repeat(21),
      'a'.repeat(129),
      'a'.repeat(1_000_000),
      `${'a'.repeat(31)}=`,
      `${'a'.repeat(31)} `,
      `${'a'.repeat(31)}é`,
      `${'a'.repeat(31)}\n`,
      '../../etc/passwd/aaaaaaaaaaaaaa',
    ]
    for (const ticket of bad) expect(await verifyTicket(store, ticket)).toBeNull()
    expect(calls).toEqual([])
    expect(await verifyTicket(store, 'a'.repeat(22))).toEqual(alice)
    expect(await verifyTicket(store, 'a'.repeat(128))).toEqual(alice)
  })

  it('answers null when the store hands back something that is not a payload', async () => {
    for (const payload of [{ userId: 1, username: 'x' }, { userId: '1' }, [1], 'text']) {
      const { store } = fakeStore(async () => payload as never)
      expect(await verifyTicket(store, randomToken())).toBeNull()
    }
  })

  it('throws SessionBackendError with cause when the store fails', async () => {
    const failure = new Error('ECONNREFUSED')
    const { store } = fakeStore(async () => {
      throw failure
    })
    const error = await verifyTicket(store, randomToken()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionBackendError)
    expect((error as SessionBackendError).cause).toBe(failure)
    expect((error as SessionBackendError).status).toBe(503)
  })

  it('gives up with SessionTimeoutError when the store does not answer', async () => {
    const { store } = fakeStore(() => new Promise(() => {}))
    await expect(verifyTicket(store, randomToken(), { timeout: 50 })).rejects.toBeInstanceOf(
      SessionTimeoutError,
    )
  })
})

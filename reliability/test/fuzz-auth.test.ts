import {
  createSessionManager,
  LazyUser,
  memoryBackend,
  memoryTicketStore,
  verifyTicket,
} from '@sessionbridge/core'
import { decideBasicGuard, parseBasicAuth, resolveBasicGuard } from '@sessionbridge/core/adapter'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { byteString, FUZZ_TIMEOUT, fuzzParams, headerish } from '../src/fuzz.ts'
import { basic, fixtureUsers, PASSWORD } from '../src/users.ts'

vi.setConfig({ testTimeout: FUZZ_TIMEOUT })

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='.split('')

/** Hostile `Authorization` values: bytes, other schemes, bad base64, bad UTF-8, huge, near-valid. */
const hostileAuthorization = fc.oneof(
  byteString(),
  headerish(),
  fc.string({ unit: fc.constantFrom(...B64), maxLength: 80 }).map((b) => `Basic ${b}`),
  fc.uint8Array({ maxLength: 60 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([u, p]) => basic(u, p)),
  fc.constantFrom('alice', 'bob', 'carol', 'alice@example.com', 'nobody').map((u) => basic(u, 'wrong')),
  fc.integer({ min: 1000, max: 8000 }).map((n) => `Basic ${'QQ'.repeat(n)}`),
  fc.constantFrom('Bearer x', 'basic', 'Basic', 'Basic ==', 'Basic Og==', 'Basic OnBhc3M='),
)

describe('hostile Basic headers and tickets, framework-free', () => {
  it('parseBasicAuth never throws and yields null or a non-empty username', () => {
    fc.assert(
      fc.property(hostileAuthorization, (header) => {
        const parsed = parseBasicAuth(header)
        if (parsed !== null) expect(parsed.username.length).toBeGreaterThan(0)
      }),
      fuzzParams(),
    )
  })

  it('the Basic guard answers 401 (never throws, never allows) for anything but valid credentials', async () => {
    const users = fixtureUsers(1)
    const guard = resolveBasicGuard(null)
    const manager = createSessionManager({ backend: memoryBackend(), logger: { warn() {} } })
    await fc.assert(
      fc.asyncProperty(hostileAuthorization, async (authorization) => {
        const session = await manager.open({ cookie: null })
        const user = new LazyUser(session, users)
        const decision = await decideBasicGuard(guard, { session, user, users, authorization })
        expect(decision.allow).toBe(false)
        if (!decision.allow) expect(decision.status).toBe(401)
        await session.commit()
      }),
      fuzzParams(),
    )
    // The same path lets the real credentials through: the 401s above are not a broken guard.
    const session = await manager.open({ cookie: null })
    const user = new LazyUser(session, users)
    const ok = await decideBasicGuard(guard, {
      session,
      user,
      users,
      authorization: basic('alice', PASSWORD),
    })
    expect(ok.allow).toBe(true)
  })

  it('verifyTicket answers null for every forged, malformed or oversized ticket', async () => {
    const store = memoryTicketStore()
    const real = await store.issue({ userId: '1', username: 'alice' }, 60_000)
    const ticketish = fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')),
      minLength: 20,
      maxLength: 140,
    })
    await fc.assert(
      fc.asyncProperty(fc.oneof(byteString(), ticketish, fc.anything()), async (ticket) => {
        fc.pre(ticket !== real)
        expect(await verifyTicket(store, ticket)).toBeNull()
      }),
      fuzzParams(),
    )
    expect(await verifyTicket(store, real)).toEqual({ userId: '1', username: 'alice' })
  })
})

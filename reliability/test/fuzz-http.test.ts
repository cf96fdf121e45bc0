import { defaultIdFormat, memoryBackend, memoryTicketStore } from '@sessionbridge/core'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type AppUnderTest, buildApp, FRAMEWORKS } from '../src/apps.ts'
import {
  asHeaderValue,
  batch,
  batchedParams,
  byteString,
  FUZZ_RUNS,
  FUZZ_TIMEOUT,
  headerish,
  hostileCookieHeader,
} from '../src/fuzz.ts'
import { spyBackend } from '../src/spy-backend.ts'
import { basic, fixtureUsers } from '../src/users.ts'

vi.setConfig({ testTimeout: FUZZ_TIMEOUT })

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='.split('')
const hostileAuthorization = fc.oneof(
  byteString(),
  headerish(),
  fc.string({ unit: fc.constantFrom(...B64), maxLength: 80 }).map((b) => `Basic ${b}`),
  fc.uint8Array({ maxLength: 60 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([u, p]) => basic(u, p)),
  fc.constantFrom('alice', 'bob', 'carol', 'nobody').map((u) => basic(u, 'wrong')),
  fc.integer({ min: 1000, max: 6000 }).map((n) => `Basic ${'QQ'.repeat(n)}`),
)

// Each target is split over the three frameworks: 3 x 3,334 >= 10,000 cases per target in CI.
const RUNS = Math.ceil(FUZZ_RUNS / FRAMEWORKS.length)
/** A real HTTP server (Koa here) may refuse oversized headers itself: 431 is a clear answer, not a crash. */
const TOO_LARGE = 431

describe.each(FRAMEWORKS)('%s: hostile input over HTTP', (framework) => {
  let app: AppUnderTest
  const spied = spyBackend(memoryBackend())
  beforeAll(async () => {
    app = await buildApp(framework, {
      backend: spied.backend,
      users: fixtureUsers(1),
      tickets: memoryTicketStore(),
      logger: { warn() {} },
    })
  })
  afterAll(async () => {
    await app?.close()
  })

  // Each case sends BATCH requests at once: the same number of hostile values, a tenth of the rounds.
  it('hostile cookies: never a 500, and no backend call with an invalid id', async () => {
    await fc.assert(
      fc.asyncProperty(batch(fc.tuple(hostileCookieHeader(), fc.boolean())), async (values) => {
        spied.calls.length = 0
        const replies = await Promise.all(
          values.map(([raw, write]) => {
            const cookie = asHeaderValue(raw)
            return write
              ? app.call({ method: 'POST', path: '/write/k/v', cookie })
              : app.call({ path: '/read', cookie })
          }),
        )
        for (const reply of replies) expect([200, TOO_LARGE]).toContain(reply.status)
        for (const call of spied.calls) {
          if (call.id !== null) expect(defaultIdFormat.validate(call.id)).toBe(true)
        }
      }),
      batchedParams(RUNS),
    )
  })

  it('hostile Basic headers: 401, never 500 nor a way in', async () => {
    await fc.assert(
      fc.asyncProperty(batch(hostileAuthorization), async (values) => {
        const replies = await Promise.all(
          values.map((raw) => app.call({ path: '/guarded', headers: { authorization: asHeaderValue(raw) } })),
        )
        for (const reply of replies) expect([401, TOO_LARGE]).toContain(reply.status)
      }),
      batchedParams(RUNS),
    )
  })

  it('the ticket route with a hostile cookie: 401, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(batch(hostileCookieHeader()), async (values) => {
        const replies = await Promise.all(
          values.map((raw) => app.call({ method: 'POST', path: '/ticket', cookie: asHeaderValue(raw) })),
        )
        for (const reply of replies) expect([401, TOO_LARGE]).toContain(reply.status)
      }),
      batchedParams(RUNS),
    )
  })
})

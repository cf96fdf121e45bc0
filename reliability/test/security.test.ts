import {
  createSessionManager,
  defaultIdFormat,
  LazyUser,
  memoryBackend,
  memoryTicketStore,
  verifyTicket,
} from '@sessionbridge/core'
import {
  base64UrlDecode,
  decideBasicGuard,
  RequestAuth,
  resolveBasicGuard,
} from '@sessionbridge/core/adapter'
import { createToken } from '@sessionbridge/rest-sessions-server'
import { describe, expect, it } from 'vitest'
import { chiSquare, median, onesFraction } from '../src/stats.ts'
import { basic, fixtureUsers } from '../src/users.ts'

const quiet = { warn() {} }
const cookieOf = (setCookie: string | null) => setCookie?.split(';')[0] ?? ''

describe('session fixation', () => {
  it('the id changes at login and the pre-login id is dead', async () => {
    const backend = memoryBackend()
    const users = fixtureUsers()
    const manager = createSessionManager({ backend, logger: quiet })
    // The attacker's planted session: anonymous, with some data.
    const planted = await manager.open({ cookie: null })
    planted.set('cart', [1])
    const before = cookieOf((await planted.commit()).setCookie)
    const oldId = before.split('=')[1]!

    const request = await manager.open({ cookie: before })
    const auth = new RequestAuth(request, users)
    await auth.login((await users.findByLogin('alice'))!)
    const after = cookieOf((await request.commit()).setCookie)
    const newId = after.split('=')[1]!

    expect(newId).not.toBe(oldId)
    expect(await backend.load(oldId)).toBeNull()
    // The planted cookie carries no login; the new one does, and keeps the anonymous data.
    const attacker = new RequestAuth(await manager.open({ cookie: before }), users)
    expect(await attacker.user.get()).toBeNull()
    const victim = new RequestAuth(await manager.open({ cookie: after }), users)
    expect((await victim.user.get())?.username).toBe('alice')
    expect(await victim.session.get('cart')).toEqual([1])
  })
})

describe('cookie flags per scheme', () => {
  const flagsFor = async (transport: { protocol?: string; forwardedProto?: string }, trustProxy: boolean) => {
    const manager = createSessionManager({ backend: memoryBackend(), trustProxy, logger: quiet })
    const session = await manager.open({ cookie: null, ...transport })
    session.set('x', 1)
    const setCookie = (await session.commit()).setCookie!
    return setCookie.split(';').map((part) => part.trim().split('=')[0]!.toLowerCase())
  }

  it('plain http: HttpOnly, SameSite=Lax, Path, no Secure', async () => {
    const flags = await flagsFor({ protocol: 'http' }, false)
    expect(flags).toEqual(expect.arrayContaining(['httponly', 'samesite', 'path']))
    expect(flags).not.toContain('secure')
  })

  it('https: Secure', async () => {
    expect(await flagsFor({ protocol: 'https' }, false)).toContain('secure')
  })

  it('X-Forwarded-Proto: https counts only behind a trusted proxy', async () => {
    expect(await flagsFor({ protocol: 'http', forwardedProto: 'https' }, false)).not.toContain('secure')
    expect(await flagsFor({ protocol: 'http', forwardedProto: 'https' }, true)).toContain('secure')
    expect(await flagsFor({ protocol: 'http', forwardedProto: 'http, https' }, true)).not.toContain('secure')
  })
})

describe('secret rotation', () => {
  it('old cookies are accepted and re-issued, then refused once the old secret is removed', async () => {
    const backend = memoryBackend()
    const OLD = 'old-secret-old-secret-old-secret'
    const NEW = 'new-secret-new-secret-new-secret'
    const before = createSessionManager({ backend, secrets: [OLD], logger: quiet })
    const first = await before.open({ cookie: null })
    first.set('n', 1)
    const oldCookie = cookieOf((await first.commit()).setCookie)

    const rotating = createSessionManager({ backend, secrets: [NEW, OLD], logger: quiet })
    const during = await rotating.open({ cookie: oldCookie })
    expect(await during.get('n')).toBe(1)
    const renewed = await during.commit()
    const newCookie = cookieOf(renewed.setCookie)
    expect(newCookie).not.toBe(oldCookie)
    // Same session id, new signature.
    expect(newCookie.split('.')[0]).toBe(oldCookie.split('.')[0])

    const after = createSessionManager({ backend, secrets: [NEW], logger: quiet })
    const refused = await after.open({ cookie: oldCookie })
    expect(refused.id).toBeNull()
    expect(await refused.get('n')).toBeUndefined()
    expect(await (await after.open({ cookie: newCookie })).get('n')).toBe(1)
  })
})

describe('timing of unknown user vs wrong password', () => {
  it('the Basic guard spends about the same time on both (medians within 0.5-2x)', async () => {
    // Realistic enough hashing that the hash dominates, few enough iterations to stay quick.
    const users = fixtureUsers(20_000)
    const guard = resolveBasicGuard(null)
    const manager = createSessionManager({ backend: memoryBackend(), logger: quiet })
    const attempt = async (authorization: string) => {
      const session = await manager.open({ cookie: null })
      const started = process.hrtime.bigint()
      const decision = await decideBasicGuard(guard, {
        session,
        user: new LazyUser(session, users),
        users,
        authorization,
      })
      const elapsed = Number(process.hrtime.bigint() - started)
      expect(decision.allow).toBe(false)
      return elapsed
    }
    await attempt(basic('alice', 'warm-up'))
    const unknown: number[] = []
    const wrong: number[] = []
    for (let i = 0; i < 30; i++) {
      // Interleaved, so drift on a shared machine hits both series alike.
      unknown.push(await attempt(basic(`nobody${i}`, 'wrong')))
      wrong.push(await attempt(basic('alice', `wrong${i}`)))
    }
    const ratio = median(unknown) / median(wrong)
    console.info(`[reliability] timing (memory users): unknown/wrong median ratio ${ratio.toFixed(3)}`)
    expect(ratio).toBeGreaterThan(0.5)
    expect(ratio).toBeLessThan(2)
  })
})

describe('tickets', () => {
  it('each ticket is consumed exactly once under racing consumers', async () => {
    const store = memoryTicketStore()
    const tickets = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.issue({ userId: String(i), username: `u${i}` }, 60_000)),
    )
    const results = await Promise.all(
      tickets.map((ticket) => Promise.all(Array.from({ length: 10 }, () => verifyTicket(store, ticket)))),
    )
    for (const [i, attempts] of results.entries()) {
      const winners = attempts.filter((p) => p !== null)
      expect(winners).toEqual([{ userId: String(i), username: `u${i}` }])
    }
  })
})

describe('randomness of session ids and tickets', () => {
  it('session ids: no repeats, uniform symbols (chi-square), uniform per position', () => {
    const ids = Array.from({ length: 4000 }, () => defaultIdFormat.generate())
    expect(new Set(ids).size).toBe(ids.length)
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
    // 35 degrees of freedom: mean 35, sd ~8.4. 100 is ~7.7 sd out: a loose, non-flaky bound.
    expect(chiSquare(ids, alphabet)).toBeLessThan(100)
    for (const position of [0, 15, 31])
      expect(
        chiSquare(
          ids.map((id) => id[position]!),
          alphabet,
        ),
      ).toBeLessThan(100)
  })

  it('rest-sessions server tokens: no repeats, uniform symbols (chi-square), uniform per position', () => {
    const tokens = Array.from({ length: 2000 }, () => createToken())
    expect(new Set(tokens).size).toBe(tokens.length)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    expect(chiSquare(tokens, alphabet)).toBeLessThan(150) // 61 dof: mean 61, sd ~11
    // The original ended every token with its creation time; ours must be random to the last character.
    for (const position of [0, 55, 63])
      expect(
        chiSquare(
          tokens.map((t) => t[position]!),
          alphabet,
        ),
      ).toBeLessThan(150)
  })

  it('tickets: no repeats, half the bits set (monobit), uniform symbols', async () => {
    const store = memoryTicketStore({ maxEntries: 5000 })
    const tickets = await Promise.all(
      Array.from({ length: 4000 }, () => store.issue({ userId: '1', username: 'a' }, 60_000)),
    )
    expect(new Set(tickets).size).toBe(tickets.length)
    const bytes = tickets.map((t) => base64UrlDecode(t)!)
    // 768,000 bits: sd of the fraction ~0.00057; 0.49-0.51 is ~17 sd wide.
    expect(onesFraction(bytes)).toBeGreaterThan(0.49)
    expect(onesFraction(bytes)).toBeLessThan(0.51)
    const b64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    expect(chiSquare(tickets, b64url)).toBeLessThan(150) // 63 dof: mean 63, sd ~11
  })
})

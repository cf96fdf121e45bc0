import { describe, expect, it } from 'vitest'
import { readCookie, SessionDriver, sessionErrorAnswer } from '../src/adapter.ts'
import { scanCookie } from '../src/cookies.ts'
import {
  memoryBackend,
  memoryTicketStore,
  memoryUserSource,
  SessionBackendError,
  SessionConfigError,
  SessionConflictError,
} from '../src/index.ts'

const quiet = { warn() {} }
const users = () =>
  memoryUserSource({ users: [{ id: 7, username: 'ann', password: 'pw-ann-0123' }], iterations: 1000 })

describe('readCookie follows Django: the last duplicate wins', () => {
  it.each([
    ['sessionid=a; sessionid=b', 'b'],
    ['sessionid=a;sessionid=b;x=1', 'b'],
    ['  sessionid = a ; other=2', 'a'],
    ['sessionid=a; sessionid=', null],
    ['sessionid="abc"', 'abc'],
    ['sessionid="a\\142c"', null],
    ['sessionid=%61bc', '%61bc'],
    ['xsessionid=a', null],
    ['sessionid', null],
    ['other=1', null],
    ['', null],
  ])('%s', (header, expected) => {
    expect(readCookie(header, 'sessionid')).toBe(expected)
    // The manager's scan, without the pre-check: the same answer for every header.
    expect(scanCookie(header, 'sessionid')).toBe(expected)
  })
})

describe('sessionErrorAnswer', () => {
  it('maps backend failures to 503 and conflicts to 409, with generic bodies', () => {
    const backend = new SessionBackendError('redis', 'load', 'connect ECONNREFUSED 10.0.0.1:6379')
    expect(sessionErrorAnswer(backend)).toEqual({ status: 503, body: 'Service Unavailable' })
    expect(sessionErrorAnswer(new Error('wrapped', { cause: backend }))?.status).toBe(503)
    expect(sessionErrorAnswer(new SessionConflictError('redis', 'count', 5))).toEqual({
      status: 409,
      body: 'Conflict',
    })
    expect(sessionErrorAnswer(new Error('boom'))).toBeNull()
    expect(sessionErrorAnswer('text')).toBeNull()
  })
})

describe('SessionDriver and RequestSession', () => {
  it('refuses trustProxy when the framework decides HTTPS', () => {
    expect(
      () =>
        new SessionDriver(
          { backend: memoryBackend(), trustProxy: true },
          { package: 'x', frameworkProxyTrust: true },
        ),
    ).toThrow(SessionConfigError)
    expect(
      () =>
        new SessionDriver(
          { backend: memoryBackend(), trustProxy: true },
          { package: 'x', frameworkProxyTrust: false },
        ),
    ).not.toThrow()
  })

  it('costs nothing for a request that never uses its session', async () => {
    const driver = new SessionDriver(
      { backend: memoryBackend() },
      { package: 'x', frameworkProxyTrust: true },
    )
    const state = driver.open(undefined, false)
    expect(state.start()).toBeUndefined()
    expect(state.untouched).toBe(true)
    expect(await state.finish()).toEqual([])
  })

  it('asks a function for HTTPS only when a cookie is written, and once', async () => {
    const driver = new SessionDriver(
      { backend: memoryBackend(), secrets: ['a-secret-of-sufficient-length'] },
      { package: 'x', frameworkProxyTrust: true },
    )
    let asked = 0
    const https = () => {
      asked++
      return true
    }
    const first = driver.open(undefined, https)
    first.session.set('n', 1) // a new session: its cookie is written, Secure
    const [cookie] = await first.finish()
    expect(cookie).toMatch(/; Secure/)
    expect(asked).toBe(1)

    const header = cookie!.split(';')[0]!
    const returning = driver.open(header, https)
    expect(returning.start()).toBeUndefined()
    returning.session.set('n', ((await returning.session.get('n')) as number) + 1)
    const none = await returning.finish()
    expect(none).toEqual([]) // the expiry is kept: no cookie, HTTPS never asked
    // The empty answer's own `then`, `undefined`, spares a promise resolved with it the search
    // through Array.prototype and Object.prototype; to a reader it is an empty, frozen array.
    expect(Object.getOwnPropertyDescriptor(none, 'then')).toEqual({
      value: undefined,
      writable: false,
      enumerable: false,
      configurable: false,
    })
    expect([...none]).toEqual([])
    expect(Object.isFrozen(none)).toBe(true)
    expect(JSON.stringify(none)).toBe('[]')
    expect(await Promise.resolve(none)).toBe(none)
    expect(asked).toBe(1)
    expect(returning.secure).toBe(true) // asked when read (an extension's check)
    expect(returning.secure).toBe(true)
    expect(asked).toBe(2)

    // A check that reads `secure`, then a cookie written (a rotated id): one ask for the request.
    const checked = driver.open(header, https)
    expect(checked.start()).toBeUndefined()
    expect(checked.secure).toBe(true)
    checked.session.regenerate()
    const [rotated] = await checked.finish()
    expect(rotated).toMatch(/; Secure/)
    expect(asked).toBe(3)

    const plain = driver.open(header, () => false)
    plain.session.destroy()
    const [cleared] = await plain.finish()
    expect(cleared).toMatch(/Max-Age=0/)
    expect(cleared).not.toMatch(/Secure/)
  })

  it('finishThen hands the cookies on in the commit, once, and rejects with what fails', async () => {
    let saves = 0
    const base = memoryBackend()
    const backend = Object.assign(Object.create(base) as typeof base, {
      save(...args: Parameters<typeof base.save>) {
        saves++
        return base.save(...args)
      },
    })
    const driver = new SessionDriver({ backend }, { package: 'x', frameworkProxyTrust: true })
    // A new session: its cookie goes to `then`, whose answer is the promise's.
    const first = driver.open(undefined, false)
    first.session.set('n', 1)
    const seen: (readonly string[])[] = []
    const answer = await first.finishThen((cookies) => {
      seen.push(cookies)
      return 'payload'
    })
    expect(answer).toBe('payload')
    expect(seen).toHaveLength(1)
    expect(seen[0]).toHaveLength(1)
    expect(seen[0]![0]).toMatch(/^sessionid=\w+;/)
    // Finished: neither `finish()` nor another `finishThen` commits again.
    expect(await first.finish()).toEqual([])
    expect(await first.finishThen((cookies) => cookies.length)).toBe(0)
    const header = seen[0]![0]!.split(';')[0]!

    // A returning session written at its kept expiry: no cookie, one save.
    const returning = driver.open(header, false)
    expect(returning.start()).toBeUndefined()
    returning.session.set('n', 2)
    const before = saves
    expect(await returning.finishThen((cookies) => [...cookies])).toEqual([])
    expect(saves - before).toBe(1)
    expect((await base.load(header.slice('sessionid='.length)))?.data.n).toBe(2)

    // Unused: `then` gets no cookies, nothing is saved.
    expect(await driver.open(undefined, false).finishThen((cookies) => cookies)).toEqual([])
    expect(saves - before).toBe(1)

    // What `then` throws rejects the promise (the write is done).
    const throwing = driver.open(header, false)
    throwing.session.set('n', 3)
    const thrown = new Error('then failed')
    await expect(
      throwing.finishThen(() => {
        throw thrown
      }),
    ).rejects.toBe(thrown)
    expect((await base.load(header.slice('sessionid='.length)))?.data.n).toBe(3)

    // A backend failure rejects typed; `then` is not called.
    const down = Object.assign(Object.create(base) as typeof base, {
      save: () => Promise.reject(new Error('down')),
    })
    const failing = new SessionDriver(
      { backend: down, logger: quiet },
      { package: 'x', frameworkProxyTrust: true },
    ).open(header, false)
    failing.session.set('n', 4)
    let called = false
    await expect(
      failing.finishThen(() => {
        called = true
      }),
    ).rejects.toBeInstanceOf(SessionBackendError)
    expect(called).toBe(false)
  })

  it('finishThen hands a failed commit to otherwise, in the commit and through finish()', async () => {
    const base = memoryBackend()
    const down = (op: 'save' | 'touch' | 'create') =>
      Object.assign(Object.create(base) as typeof base, { [op]: () => Promise.reject(new Error('down')) })
    const seed = base.idFormat.generate()
    await base.create(seed, { data: { n: 0 }, expiresAt: Date.now() + 60_000, userId: null })
    const failures: unknown[] = []
    const otherwise = (error: unknown) => {
      failures.push(error)
      return 'answered'
    }
    const never = () => {
      throw new Error('then must not run')
    }
    // The common end (a save of a returning session, a new session's create): `otherwise`'s answer.
    for (const [op, cookie] of [
      ['save', `sessionid=${seed}`],
      ['create', undefined],
    ] as const) {
      const driver = new SessionDriver(
        { backend: down(op), logger: quiet },
        { package: 'x', frameworkProxyTrust: true },
      )
      const state = driver.open(cookie, false)
      state.start()
      state.session.set('n', 1)
      expect(await state.finishThen(never, otherwise)).toBe('answered')
    }
    // With an extension (finish() first), the same.
    const csrf = new SessionDriver(
      { backend: down('save'), logger: quiet, csrf: {} },
      { package: 'x', frameworkProxyTrust: true },
    ).open(`sessionid=${seed}`, false)
    csrf.start()
    csrf.session.set('n', 2)
    expect(await csrf.finishThen(never, otherwise)).toBe('answered')
    expect(failures).toHaveLength(3)
    for (const failure of failures) expect(failure).toBeInstanceOf(SessionBackendError)
    // What `otherwise` throws rejects; a commit that succeeds never reaches it.
    const rethrown = new Error('rethrown')
    const failing = new SessionDriver(
      { backend: down('save'), logger: quiet },
      { package: 'x', frameworkProxyTrust: true },
    ).open(`sessionid=${seed}`, false)
    failing.start()
    failing.session.set('n', 3)
    await expect(
      failing.finishThen(never, () => {
        throw rethrown
      }),
    ).rejects.toBe(rethrown)
    const fine = new SessionDriver({ backend: base }, { package: 'x', frameworkProxyTrust: true }).open(
      `sessionid=${seed}`,
      false,
    )
    fine.start()
    fine.session.set('n', 4)
    expect(await fine.finishThen(() => 'committed', otherwise)).toBe('committed')
    expect(failures).toHaveLength(3)
    expect((await base.load(seed))?.data.n).toBe(4)
  })

  it('finishThen with an extension goes through finish(): its cookies too', async () => {
    const driver = new SessionDriver(
      { backend: memoryBackend(), csrf: {} },
      { package: 'x', frameworkProxyTrust: true },
    )
    const state = driver.open(undefined, false)
    await state.csrfToken(undefined)
    state.session.set('n', 1)
    const cookies = await state.finishThen((sent) => sent.map((c) => c.split('=', 1)[0]))
    expect(cookies.sort()).toEqual(['csrftoken', 'sessionid'])
  })

  it("opens unsigned and (through Node's crypto) signed cookies synchronously", async () => {
    const backend = memoryBackend()
    const plain = new SessionDriver({ backend }, { package: 'x', frameworkProxyTrust: true })
    expect(plain.open(`sessionid=${'a'.repeat(32)}`, false).start()).toBeUndefined()
    const signed = new SessionDriver(
      { backend, secrets: ['a-secret-of-sufficient-length'] },
      { package: 'x', frameworkProxyTrust: true },
    )
    expect(signed.open(`sessionid=${'a'.repeat(32)}.sig`, false).start()).toBeUndefined()
    const forged = `sessionid=${'a'.repeat(32)}.${'A'.repeat(43)}`
    expect(signed.open(forged, false).start()).toBeUndefined()
    // Web Crypto's path (no synchronous answer) starts with a promise: signing.test.ts
  })

  it('logout revokes the tickets of the user, read from the store when the user was not loaded', async () => {
    const tickets = memoryTicketStore()
    const backend = memoryBackend()
    const source = users()
    const driver = new SessionDriver(
      { backend, users: source, tickets, logger: quiet },
      { package: 'x', frameworkProxyTrust: true },
    )
    const login = driver.open(undefined, true)
    await login.login((await source.findByLogin('ann'))!)
    const [cookie] = await login.finish()
    const ticket = await tickets.issue({ userId: '7', username: 'ann' }, 10_000)
    const other = await tickets.issue({ userId: '8', username: 'bo' }, 10_000)

    const logout = driver.open(cookie!.split(';')[0], true)
    await logout.start()
    logout.logout()
    const [cleared] = await logout.finish()
    expect(cleared).toMatch(/^sessionid=; Max-Age=0/)
    expect(await tickets.consume(ticket)).toBeNull()
    expect(await tickets.consume(other)).toMatchObject({ userId: '8' })
  })

  it('a failing ticket store does not fail the logout', async () => {
    const warnings: string[] = []
    const tickets = {
      ...memoryTicketStore(),
      name: 'down',
      revokeUser: async () => Promise.reject(new Error('down')),
    }
    const source = users()
    const driver = new SessionDriver(
      {
        backend: memoryBackend(),
        users: source,
        tickets,
        logger: { warn: (m: string) => warnings.push(m) },
      },
      { package: 'x', frameworkProxyTrust: true },
    )
    const state = driver.open(undefined, true)
    await state.login((await source.findByLogin('ann'))!)
    const [cookie] = await state.finish()
    const out = driver.open(cookie!.split(';')[0], true)
    expect((await out.user)?.username).toBe('ann')
    out.logout()
    await out.finish()
    expect(warnings.join()).toMatch(/revoking tickets at logout failed: .*down/)
  })
})

import { describe, expect, it } from 'vitest'
import { decideBasicGuard, resolveBasicGuard } from '../src/adapter.ts'
import {
  type AttemptStore,
  authenticate,
  createSessionManager,
  LazyUser,
  loginThrottle,
  memoryAttemptStore,
  memoryBackend,
  memoryUserSource,
  SessionConfigError,
} from '../src/index.ts'
import { basicHeader } from '../src/testing/http.ts'

function countingUsers() {
  const users = memoryUserSource({
    users: [
      { id: 1, username: 'alice', password: 'pw-alice' },
      { id: 2, username: 'bob', password: 'pw-bob' },
    ],
    iterations: 1000,
  })
  const counts = { hashes: 0, lookups: 0 }
  const verify = users.verifyPassword.bind(users)
  const find = users.findByLogin.bind(users)
  users.verifyPassword = (user, password) => {
    counts.hashes++
    return verify(user, password)
  }
  users.findByLogin = (login) => {
    counts.lookups++
    return find(login)
  }
  return { users, counts }
}

describe('loginThrottle', () => {
  it('refuses past the per-username limit with Retry-After, without lookup or hash', async () => {
    let now = 1_000_000
    const store = memoryAttemptStore({ now: () => now })
    const throttle = loginThrottle({ store, perUsername: { limit: 3, windowMs: 60_000 } })
    const { users, counts } = countingUsers()
    const attempt = (username: string, password: string) =>
      authenticate(users, { username, password }, { throttle, address: '10.0.0.1' })
    for (let i = 0; i < 3; i++) expect((await attempt('alice', 'wrong')).status).toBe('invalid')
    expect(counts.hashes).toBe(3)
    const refused = await attempt('alice', 'pw-alice')
    expect(refused).toEqual({ status: 'throttled', retryAfterSeconds: 60 })
    expect(counts).toEqual({ hashes: 3, lookups: 3 })
    // Case variants count against the same user; another user is untouched.
    expect((await attempt('ALICE', 'pw-alice')).status).toBe('throttled')
    expect((await attempt('bob', 'pw-bob')).status).toBe('ok')
    now += 60_000
    expect((await attempt('alice', 'pw-alice')).status).toBe('ok')
  })

  it('counts unknown usernames exactly like known ones', async () => {
    const throttle = loginThrottle({
      store: memoryAttemptStore(),
      perUsername: { limit: 2, windowMs: 60_000 },
    })
    const { users, counts } = countingUsers()
    const results = []
    for (const name of ['nobody', 'nobody', 'nobody', 'alice', 'alice', 'alice']) {
      results.push((await authenticate(users, { username: name, password: 'x' }, { throttle })).status)
    }
    expect(results).toEqual(['invalid', 'invalid', 'throttled', 'invalid', 'invalid', 'throttled'])
    expect(counts.hashes).toBe(4)
  })

  it('a success resets the username and gives its attempt back to the address', async () => {
    const throttle = loginThrottle({
      store: memoryAttemptStore(),
      perUsername: { limit: 2, windowMs: 60_000 },
      perAddress: { limit: 3, windowMs: 60_000 },
    })
    const { users } = countingUsers()
    const at = (username: string, password: string) =>
      authenticate(users, { username, password }, { throttle, address: '10.0.0.9' })
    expect((await at('alice', 'wrong')).status).toBe('invalid')
    expect((await at('alice', 'pw-alice')).status).toBe('ok')
    expect((await at('alice', 'wrong')).status).toBe('invalid')
    expect((await at('alice', 'wrong')).status).toBe('invalid')
    // Three failures on the address now: the fourth attempt, whatever the user, is over its limit.
    expect((await at('bob', 'pw-bob')).status).toBe('throttled')
    expect(
      (await authenticate(users, { username: 'bob', password: 'pw-bob' }, { throttle, address: '10.0.0.10' }))
        .status,
    ).toBe('ok')
  })

  it('a refused attempt does not use the address budget (100 guesses at one user spare the others)', async () => {
    const throttle = loginThrottle({ store: memoryAttemptStore() })
    const { users, counts } = countingUsers()
    const statuses = new Map<string, number>()
    for (let i = 0; i < 100; i++) {
      const { status } = await authenticate(
        users,
        { username: 'alice', password: `guess-${i}` },
        { throttle, address: '10.1.1.1' },
      )
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
    expect(Object.fromEntries(statuses)).toEqual({ invalid: 10, throttled: 90 })
    expect(counts.hashes).toBe(10)
    expect(
      (await authenticate(users, { username: 'bob', password: 'pw-bob' }, { throttle, address: '10.1.1.1' }))
        .status,
    ).toBe('ok')
  })

  it('concurrent attempts cannot overshoot the limit (counted before checking)', async () => {
    const throttle = loginThrottle({
      store: memoryAttemptStore(),
      perUsername: { limit: 5, windowMs: 60_000 },
    })
    const { users, counts } = countingUsers()
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        authenticate(users, { username: 'alice', password: 'no' }, { throttle }),
      ),
    )
    expect(results.filter((r) => r.status === 'invalid')).toHaveLength(5)
    expect(counts.hashes).toBe(5)
  })

  it('propagates store failures and checks its options', async () => {
    const broken: AttemptStore = {
      name: 'broken',
      hit: () => Promise.reject(new Error('down')),
      undo: async () => {},
      reset: async () => {},
    }
    const { users, counts } = countingUsers()
    await expect(
      authenticate(users, { username: 'a', password: 'b' }, { throttle: loginThrottle({ store: broken }) }),
    ).rejects.toThrow('down')
    expect(counts.hashes).toBe(0)
    expect(() => loginThrottle({ store: {} as AttemptStore })).toThrow(SessionConfigError)
    expect(() =>
      loginThrottle({ store: memoryAttemptStore(), perUsername: { limit: 0, windowMs: 1000 } }),
    ).toThrow(/perUsername/)
    expect(() =>
      loginThrottle({ store: memoryAttemptStore(), perAddress: { limit: 5, windowMs: 10 } }),
    ).toThrow(/perAddress/)
    expect(loginThrottle({ store: memoryAttemptStore(), perAddress: false }).store.name).toBe('memory')
  })
})

describe('Basic guards with a throttle', () => {
  it('answer 429 with Retry-After once the credentials are over the limit', async () => {
    const { users, counts } = countingUsers()
    const throttle = loginThrottle({
      store: memoryAttemptStore(),
      perUsername: { limit: 2, windowMs: 30_000 },
    })
    const guard = resolveBasicGuard(null, { throttle })
    const manager = createSessionManager({ backend: memoryBackend() })
    const decide = async (password: string) => {
      const session = manager.openWithoutCookie({})
      return decideBasicGuard(guard, {
        session,
        user: new LazyUser(session, users),
        users,
        authorization: basicHeader('alice', password),
        address: '192.0.2.1',
      })
    }
    expect((await decide('bad')).allow).toBe(false)
    expect(await decide('bad')).toMatchObject({ status: 401 })
    expect(await decide('pw-alice')).toEqual({
      allow: false,
      status: 429,
      headers: { 'Retry-After': '30' },
      body: 'Too Many Requests',
    })
    expect(counts.hashes).toBe(2)
  })
})

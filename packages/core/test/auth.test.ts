import { describe, expect, it } from 'vitest'
import {
  AUTH_SESSION_KEYS,
  answerTicketRequest,
  DEFAULT_AUTH_BACKEND,
  decideBasicGuard,
  RequestAuth,
  resolveBasicGuard,
  resolveTicketRoute,
} from '../src/adapter.ts'
import {
  createSessionManager,
  getUser,
  memoryBackend,
  memoryTicketStore,
  memoryUserSource,
  type SessionBackend,
  SessionConfigError,
} from '../src/index.ts'
import { basicHeader } from '../src/testing/http.ts'

const seeds = [
  { id: 1, username: 'alice', password: 'pw-alice', permissions: ['app.view'] },
  { id: 2, username: 'bob', password: 'pw-bob' },
  { id: 3, username: 'carol', password: 'pw-carol', isActive: false },
]

function setup(backend: SessionBackend = memoryBackend()) {
  const users = memoryUserSource({ users: seeds, iterations: 1000 })
  const manager = createSessionManager({ backend })
  const open = async (cookie: string | null = null) => new RequestAuth(await manager.open({ cookie }), users)
  const cookieOf = async (auth: RequestAuth) => (await auth.session.commit()).setCookie?.split(';')[0] ?? null
  return { users, manager, open, cookieOf, backend }
}

describe('login and getUser', () => {
  it("writes Django's keys, regenerates the id and keeps earlier data", async () => {
    const { users, open, cookieOf, backend } = setup()
    const first = await open()
    first.session.set('cart', [1])
    const anonymous = await cookieOf(first)
    const auth = await open(anonymous)
    await auth.login((await users.getById('1'))!)
    expect(await auth.user).toMatchObject({ username: 'alice' })
    const loggedIn = await cookieOf(auth)
    expect(loggedIn).not.toBe(anonymous)
    expect(await backend.load(anonymous!.split('=')[1]!)).toBeNull()
    const record = await backend.load(loggedIn!.split('=')[1]!)
    expect(record?.userId).toBe('1')
    expect(record?.data).toMatchObject({
      cart: [1],
      [AUTH_SESSION_KEYS.userId]: '1',
      [AUTH_SESSION_KEYS.backend]: DEFAULT_AUTH_BACKEND,
      [AUTH_SESSION_KEYS.hash]: expect.stringMatching(/^[0-9a-f]{64}$/),
    })
  })

  it('flushes the session when another user logs in', async () => {
    const { users, open, cookieOf, backend } = setup()
    const a = await open()
    await a.login((await users.getById('1'))!)
    a.session.set('private', 'alice')
    const cookie = await cookieOf(a)
    const b = await open(cookie)
    await b.login((await users.getById('2'))!)
    const next = await cookieOf(b)
    const record = await backend.load(next!.split('=')[1]!)
    expect(record?.data.private).toBeUndefined()
    expect(record?.data[AUTH_SESSION_KEYS.userId]).toBe('2')
  })

  it('accepts a numeric id; refuses inactive users, missing users and bad hashes (flushing)', async () => {
    const { users, manager } = setup()
    const session = async (data: Record<string, unknown>) => {
      const s = await manager.open({})
      for (const [k, v] of Object.entries(data)) s.set(k, v)
      return s
    }
    const alice = (await users.getById('1'))!
    const hash = await users.sessionHash!(alice)
    expect(await getUser(await session({ _auth_user_id: 1, _auth_user_hash: hash }), users)).toBe(alice)
    expect(await getUser(await session({ _auth_user_id: '3', _auth_user_hash: hash }), users)).toBeNull()
    expect(await getUser(await session({ _auth_user_id: '99' }), users)).toBeNull()
    expect(await getUser(await session({ _auth_user_id: { id: 1 } }), users)).toBeNull()
    const forged = await session({ _auth_user_id: '1', _auth_user_hash: 'f'.repeat(64), keep: 'x' })
    expect(await getUser(forged, users)).toBeNull()
    expect(await forged.get('keep')).toBeUndefined()
    const noHash = await session({ _auth_user_id: '1' })
    expect(await getUser(noHash, users)).toBeNull()
  })

  it('loads the user once per request, and not at all unless asked', async () => {
    const { users, manager } = setup()
    let calls = 0
    const counting = Object.create(users)
    counting.getById = (id: string) => {
      calls++
      return users.getById(id)
    }
    const auth = new RequestAuth(await manager.open({}), counting)
    expect(auth.user.loaded).toBe(false)
    await Promise.all([auth.user, auth.user.get(), auth.user])
    expect(calls).toBe(0) // anonymous: no id, no query
    const s = await manager.open({})
    s.set('_auth_user_id', '1')
    const withId = new RequestAuth(s, counting)
    await withId.user
    await withId.user
    expect(calls).toBe(1)
  })

  it('names the missing users option', async () => {
    const { manager, users } = setup()
    const auth = new RequestAuth(await manager.open({}), null, 'koa')
    expect(await auth.user).toBeNull()
    await expect(auth.login((await users.getById('1'))!)).rejects.toThrow(SessionConfigError)
  })
})

describe('decideBasicGuard', () => {
  const guard = (perm: string | null, login = false) => resolveBasicGuard(perm, { realm: 'r', login })

  it('spends one password hash for unknown and inactive users too', async () => {
    const { users, open } = setup()
    const seen: Array<unknown> = []
    const spying = Object.create(users)
    spying.verifyPassword = (user: unknown, pw: string) => {
      seen.push(user)
      return users.verifyPassword(user as never, pw)
    }
    for (const login of ['nobody', 'carol']) {
      const auth = await open()
      const decision = await decideBasicGuard(guard(null), {
        session: auth.session,
        user: auth.user,
        users: spying,
        authorization: basicHeader(login, 'pw-carol'),
      })
      expect(decision).toMatchObject({ allow: false, status: 401 })
    }
    expect(seen).toEqual([null, null])
  })

  it('logs in only when asked to', async () => {
    const { users, open } = setup()
    for (const login of [false, true]) {
      const auth = await open()
      const decision = await decideBasicGuard(guard('app.view', login), {
        session: auth.session,
        user: auth.user,
        users,
        authorization: basicHeader('alice', 'pw-alice'),
      })
      expect(decision).toMatchObject({ allow: true, user: { username: 'alice' } })
      expect((await auth.session.commit()).reason).toBe(login ? 'create' : 'nothing')
    }
  })
})

describe('answerTicketRequest', () => {
  it('answers 401, 403, 200 and 503 in the seed shape', async () => {
    const { users, open } = setup()
    const store = memoryTicketStore()
    const route = resolveTicketRoute(store, { permission: 'app.view', payload: () => ({ room: 'lobby' }) })
    const anonymous = await open()
    expect(await answerTicketRequest(route, anonymous.user, users)).toMatchObject({ status: 401 })
    const bob = await open()
    await bob.login((await users.getById('2'))!)
    expect(await answerTicketRequest(route, bob.user, users)).toMatchObject({ status: 403 })
    const alice = await open()
    await alice.login((await users.getById('1'))!)
    const ok = await answerTicketRequest(route, alice.user, users)
    expect(ok.status).toBe(200)
    expect(await store.consume(ok.body.message)).toEqual({ userId: '1', username: 'alice', room: 'lobby' })
    const down = resolveTicketRoute(
      { name: 'down', issue: () => Promise.reject(new Error('x')), consume: async () => null },
      { logger: { warn() {} } },
    )
    expect(await answerTicketRequest(down, alice.user, users)).toEqual({
      status: 503,
      body: { status: 'error', message: 'ticket store unavailable' },
    })
    expect(() => resolveTicketRoute(store, { ttlMs: 0 }, 'hono')).toThrow(
      /\[sessionbridge\/hono\] option "ttlMs"/,
    )
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { SessionConflictError } from '../errors.ts'
import { memoryBackend } from '../memory.ts'
import type { SessionManagerOptions } from '../options.ts'
import type { TicketStore } from '../tickets.ts'
import { memoryTicketStore } from '../tickets-memory.ts'
import type { SessionBackend } from '../types.ts'
import type { MemoryUserSource } from '../users-memory.ts'
import { memoryUserSource } from '../users-memory.ts'

/**
 * What the suite gives `makeApp`. The app must serve these routes, through the framework package:
 *
 * | route | does | answers |
 * |---|---|---|
 * | `GET /read?key=K` | `session.get(K)` | `{ value }` (`null` when unset) |
 * | `POST /write?key=K&value=V` | `session.set(K, V)` | `{ ok: true }` |
 * | `POST /incr` | `count = (get('count') ?? 0) + 1` | `{ count }` |
 * | `POST /login?username=U` | `users.findByLogin(U)`, then the framework's `login(user)` | `{ ok }`, 404 if unknown |
 * | `POST /logout` | the framework's `logout()` | `{ ok: true }` |
 * | `GET /whoami` | awaits the lazy user twice | `{ user: username \| null }` |
 * | `POST /flash?message=M` / `GET /flash` | `flash('notice', M)` / `takeFlash('notice')` | `{ ok }` / `{ message }` |
 * | `POST /expiry?seconds=N` | `session.setMaxAge(N)` | `{ ok: true }` |
 * | `GET /private` | `loggedInOrBasicAuth({ realm })` | `{ user: username }` |
 * | `GET /private-login` | `loggedInOrBasicAuth({ realm, login: true })` | `{ user: username }` |
 * | `GET /perm` | `permissionOrBasicAuth(permission, { realm })` | `{ user: username }` |
 * | `POST /ticket` | the ticket route over `tickets` | the seed's JSON |
 * | `GET /page` | the per-view ticket middleware over `tickets` | `{ ticket }` |
 * | `GET /redirect` | `set('redirected', 'yes')`, then 302 to `/read` | |
 * | `GET /fail` | `set('failed', 'yes')`, then throws `new Error('boom')` | the framework's 500 |
 * | `GET /bad-redirect` | `set('redirected', 'yes')`, then a redirect to the raw path `/€\u0007` | whatever the framework does with a header it cannot write |
 *
 * `trustProxy` asks the app to trust `X-Forwarded-Proto` the framework's own way (Fastify's
 * `trustProxy`, Koa's `app.proxy`, Express's `trust proxy`; Hono, which has none, takes the
 * middleware's `trustProxy` option): sessionbridge has no second switch for it.
 */
export interface BehaviourAppOptions {
  /**
   * Session options, backend included, and `tickets` (the store logout revokes): pass them all to
   * the framework package.
   */
  session: SessionManagerOptions & { tickets?: TicketStore }
  users: MemoryUserSource
  /** `null` = no ticket store configured. */
  tickets: TicketStore | null
  realm: string
  permission: string
  /** Trust the proxy's `X-Forwarded-Proto`, the framework's own way. */
  trustProxy: boolean
}

/** One running app: a fetch-like entry point and a way to stop it. */
export interface BehaviourApp {
  fetch(request: Request): Promise<Response>
  close(): Promise<void>
}

/** A `BehaviourApp` fetch that sends the suite's requests to a server listening at `base`. */
export function forwardTo(base: string): BehaviourApp['fetch'] {
  return (request) => {
    const url = new URL(request.url)
    return fetch(base + url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      redirect: 'manual',
    })
  }
}

/** Options of `testFrameworkBehaviour`. */
export interface FrameworkBehaviourOptions {
  /** Shown in the suite's title. */
  name: string
  /** Builds the app over the given options (see `BehaviourAppOptions` for the routes). */
  makeApp(options: BehaviourAppOptions): BehaviourApp | Promise<BehaviourApp>
  /**
   * The store, fresh per test. Read time from `now` when you can, so idle expiry can be tested
   * without waiting. @default memoryBackend({ now })
   */
  backend?: (ctx: { now: () => number }) => SessionBackend | Promise<SessionBackend>
  /** Releases what `backend()` opened. */
  teardownBackend?: (backend: SessionBackend) => Promise<void>
}

export const BEHAVIOUR_PERMISSION = 'reports.view_report'
export const BEHAVIOUR_REALM = 'Test "realm" \\ one'
const ORIGIN = 'http://sessionbridge.test'

/** `Basic` header value for a username and password, UTF-8 encoded. */
export function basicHeader(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`)
  return `Basic ${btoa(String.fromCharCode(...bytes))}`
}

const SEEDS = [
  {
    id: 1,
    username: 'alice',
    email: 'alice@example.test',
    password: 'correct:horse:battery',
    permissions: [BEHAVIOUR_PERMISSION],
  },
  { id: 2, username: 'bob', email: 'bob@example.test', password: 'bob-password' },
  { id: 3, username: 'jörg', email: 'joerg@example.test', password: 'pässwörd ✓' },
  { id: 4, username: 'carol', email: 'carol@example.test', password: 'carol-password', isActive: false },
]

/** A user source that counts `getById` calls, to check the lazy user. */
function counting(users: MemoryUserSource) {
  const calls = { getById: 0 }
  const wrapped: MemoryUserSource = Object.create(users)
  wrapped.getById = (id: string) => {
    calls.getById++
    return users.getById(id)
  }
  return { users: wrapped, calls }
}

type Init = { method?: string; headers?: Record<string, string>; cookie?: string | null }

/** A browser-like client: keeps the session cookie it is sent. */
class Client {
  cookie: string | null = null
  constructor(
    readonly app: BehaviourApp,
    readonly cookieName = 'sessionid',
  ) {}

  async send(path: string, init: Init = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const cookie = init.cookie === undefined ? this.cookie : init.cookie
    if (cookie) headers.set('cookie', `${this.cookieName}=${cookie}`)
    const method = init.method ?? (/^\/(write|incr|login|logout|expiry|ticket)\b/.test(path) ? 'POST' : 'GET')
    const response = await this.app.fetch(
      new Request(`${ORIGIN}${path}`, { method, headers, redirect: 'manual' }),
    )
    const set = setCookieOf(response, this.cookieName)
    if (set !== null) this.cookie = set.value === '' ? null : set.value
    return response
  }

  async json(path: string, init: Init = {}): Promise<Record<string, unknown>> {
    const response = await this.send(path, init)
    expect(response.status, `${path} answered ${response.status}`).toBe(200)
    return (await response.json()) as Record<string, unknown>
  }
}

function setCookieOf(response: Response, name: string): { value: string; header: string } | null {
  const header = response.headers.getSetCookie().find((h) => h.startsWith(`${name}=`))
  if (!header) return null
  return { value: header.slice(name.length + 1).split(';')[0]!, header }
}

/**
 * The HTTP behaviour every framework package must show, written once: login, read, write,
 * regenerate at login, logout, flash, expiry, Basic guards with hostile input, forged cookies, a
 * failing backend, cookie flags, signed cookies with rotation, and realtime tickets.
 */
export function testFrameworkBehaviour(options: FrameworkBehaviourOptions): void {
  describe(`HTTP behaviour: ${options.name}`, () => {
    let offset = 0
    const now = () => Date.now() + offset
    const opened: Array<() => Promise<void>> = []
    afterEach(async () => {
      offset = 0
      for (const close of opened.splice(0).reverse()) await close()
    })

    const backendFor = async () => {
      const backend = await (options.backend ?? ((ctx) => memoryBackend({ now: ctx.now })))({ now })
      opened.push(async () => options.teardownBackend?.(backend))
      return backend
    }
    const setup = async (
      overrides: Partial<Omit<BehaviourAppOptions, 'session'>> & {
        session?: Partial<SessionManagerOptions>
      } = {},
    ) => {
      const backend = overrides.session?.backend ?? (await backendFor())
      const source = overrides.users ?? memoryUserSource({ users: SEEDS, iterations: 1000 })
      const counted = counting(source)
      const tickets = overrides.tickets === undefined ? memoryTicketStore() : overrides.tickets
      const app = await options.makeApp({
        session: { now, ...overrides.session, backend, ...(tickets ? { tickets } : {}) },
        users: counted.users,
        tickets,
        realm: overrides.realm ?? BEHAVIOUR_REALM,
        permission: overrides.permission ?? BEHAVIOUR_PERMISSION,
        trustProxy: overrides.trustProxy ?? false,
      })
      opened.push(() => app.close())
      return { app, backend, users: source, calls: counted.calls, tickets, client: () => new Client(app) }
    }
    const loggedIn = async (client: Client, username = 'alice') => {
      expect(await client.json(`/login?username=${encodeURIComponent(username)}`)).toEqual({ ok: true })
      return client
    }

    describe('sessions', () => {
      it('sends no cookie and stores nothing for a request that only reads', async () => {
        const { client } = await setup()
        const c = client()
        const response = await c.send('/read?key=a')
        expect(await response.json()).toEqual({ value: null })
        expect(response.headers.getSetCookie()).toEqual([])
      })

      it('creates a session on first write with the default cookie flags, and reads it back', async () => {
        const { client } = await setup()
        const c = client()
        const response = await c.send('/write?key=a&value=one')
        const set = setCookieOf(response, 'sessionid')
        expect(set?.header).toMatch(
          /^sessionid=[a-z0-9]{32}; Max-Age=1209600; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
        )
        expect(await c.json('/read?key=a')).toEqual({ value: 'one' })
        expect((await c.json('/incr')).count).toBe(1)
        expect((await c.json('/incr')).count).toBe(2)
      })

      it('flash values are read once', async () => {
        const { client } = await setup()
        const c = client()
        await c.json('/flash?message=saved', { method: 'POST' })
        expect(await c.json('/flash')).toEqual({ message: 'saved' })
        expect(await c.json('/flash')).toEqual({ message: null })
      })

      it('changes the expiry per request, down to a browser-session cookie', async () => {
        const { client } = await setup()
        const c = client()
        await c.json('/write?key=a&value=1')
        const short = await c.send('/expiry?seconds=60')
        expect(setCookieOf(short, 'sessionid')?.header).toMatch(/Max-Age=60;/)
        const browser = await c.send('/expiry?seconds=0')
        const header = setCookieOf(browser, 'sessionid')?.header ?? ''
        expect(header).not.toMatch(/Max-Age|Expires/)
        expect(await c.json('/read?key=a')).toEqual({ value: '1' })
      })

      it('expires after the idle timeout and clears the cookie', async () => {
        const { client } = await setup({ session: { maxAge: 100 } })
        const c = client()
        await c.json('/write?key=a&value=1')
        offset += 101_000
        const response = await c.send('/read?key=a')
        expect(await response.json()).toEqual({ value: null })
        expect(setCookieOf(response, 'sessionid')?.header).toMatch(/^sessionid=; Max-Age=0/)
      })

      it('sets the cookie on a redirect', async () => {
        const { client } = await setup()
        const c = client()
        const response = await c.send('/redirect')
        expect(response.status).toBe(302)
        expect(setCookieOf(response, 'sessionid')?.value).toMatch(/^[a-z0-9]{32}$/)
        expect(await c.json('/read?key=redirected')).toEqual({ value: 'yes' })
      })

      it('commits when the handler throws, and still answers with the handler error', async () => {
        const { client } = await setup()
        const c = client()
        const response = await c.send('/fail')
        expect(response.status).toBe(500)
        expect(await c.json('/read?key=failed')).toEqual({ value: 'yes' })
      })

      it('survives a header the server cannot write: the error takes the framework error path', async () => {
        const { client } = await setup()
        const c = client()
        const response = await c.send('/bad-redirect')
        expect(response.status).toBeGreaterThanOrEqual(300)
        await response.arrayBuffer()
        expect(await c.json('/read?key=a')).toEqual({ value: null })
      })

      it('reads the last of duplicate session cookies, as Django does', async () => {
        const { client } = await setup()
        const first = client()
        const second = client()
        await first.json('/write?key=who&value=first')
        await second.json('/write?key=who&value=second')
        const both = `sessionid=${first.cookie}; sessionid=${second.cookie}`
        const probe = client()
        expect(await probe.json('/read?key=who', { cookie: null, headers: { cookie: both } })).toEqual({
          value: 'second',
        })
        const reversed = `sessionid=${second.cookie}; other=1; sessionid=${first.cookie}`
        expect(await probe.json('/read?key=who', { cookie: null, headers: { cookie: reversed } })).toEqual({
          value: 'first',
        })
        const emptyLast = `sessionid=${first.cookie}; sessionid=`
        expect(await probe.json('/read?key=who', { cookie: null, headers: { cookie: emptyLast } })).toEqual({
          value: null,
        })
      })
    })

    describe('users', () => {
      it('login regenerates the id: the old id is dead, the data survives', async () => {
        const { client } = await setup()
        const c = client()
        await c.json('/write?key=cart&value=3')
        const before = c.cookie
        await loggedIn(c)
        expect(c.cookie).toMatch(/^[a-z0-9]{32}$/)
        expect(c.cookie).not.toBe(before)
        expect(await c.json('/whoami')).toEqual({ user: 'alice' })
        expect(await c.json('/read?key=cart')).toEqual({ value: '3' })
        expect(await c.json('/whoami', { cookie: before })).toEqual({ user: null })
        expect(await c.json('/read?key=cart', { cookie: before })).toEqual({ value: null })
      })

      it("logging in as another user flushes the first user's data", async () => {
        const { client } = await setup()
        const c = await loggedIn(client())
        await c.json('/write?key=secret&value=alice-only')
        await loggedIn(c, 'bob')
        expect(await c.json('/whoami')).toEqual({ user: 'bob' })
        expect(await c.json('/read?key=secret')).toEqual({ value: null })
      })

      it('logout deletes the session and clears the cookie', async () => {
        const { client } = await setup()
        const c = await loggedIn(client())
        const before = c.cookie
        const response = await c.send('/logout')
        expect(setCookieOf(response, 'sessionid')?.header).toMatch(/^sessionid=; Max-Age=0/)
        expect(await c.json('/whoami', { cookie: before })).toEqual({ user: null })
      })

      it('a password change logs the session out', async () => {
        const { client, users } = await setup()
        const c = await loggedIn(client())
        await users.setPassword(1, 'a new password')
        const response = await c.send('/whoami')
        expect(await response.json()).toEqual({ user: null })
        expect(setCookieOf(response, 'sessionid')?.header).toMatch(/^sessionid=; Max-Age=0/)
      })

      it('loads the user only when asked, once per request', async () => {
        const { client, calls } = await setup()
        const c = await loggedIn(client())
        calls.getById = 0
        await c.json('/read?key=a')
        expect(calls.getById).toBe(0)
        await c.json('/whoami')
        expect(calls.getById).toBe(1)
      })
    })

    describe('Basic guards', () => {
      const challenge = 'Basic realm="Test \\"realm\\" \\\\ one", charset="UTF-8"'

      it('challenges anonymous requests with 401 and a quoted realm', async () => {
        const { client } = await setup()
        for (const path of ['/private', '/perm']) {
          const response = await client().send(path)
          expect(response.status).toBe(401)
          expect(response.headers.get('www-authenticate')).toBe(challenge)
        }
      })

      it('accepts username or email, passwords with colons and UTF-8 credentials', async () => {
        const { client } = await setup()
        for (const [login, password, user] of [
          ['alice', 'correct:horse:battery', 'alice'],
          ['ALICE@example.test', 'correct:horse:battery', 'alice'],
          ['jörg', 'pässwörd ✓', 'jörg'],
        ] as const) {
          const c = client()
          expect(
            await c.json('/private', { headers: { authorization: basicHeader(login, password) } }),
          ).toEqual({ user })
          expect(c.cookie, 'Basic alone must not log in').toBeNull()
        }
      })

      it('answers hostile or wrong credentials with 401, never 500', async () => {
        const { client } = await setup()
        const hostile = [
          'Basic !!!not-base64!!!',
          `Basic ${btoa('no-colon-here')}`,
          `Basic ${btoa(':password-only')}`,
          `Basic ${'QUFB'.repeat(2048)}`,
          `Basic ${btoa('\xff\xfe:\xc3\x28')}`,
          'Basic',
          'Basic =',
          'Bearer abc.def',
          `Digest username="alice"`,
          basicHeader('alice', 'wrong'),
          basicHeader('alice', 'correct'),
          basicHeader('nobody', 'correct:horse:battery'),
          basicHeader('carol', 'carol-password'),
          basicHeader('bob@example.test', 'wrong'),
        ]
        for (const authorization of hostile) {
          const response = await client().send('/private', { headers: { authorization } })
          expect(response.status, authorization.slice(0, 40)).toBe(401)
          expect(response.headers.get('www-authenticate')).toBe(challenge)
        }
      })

      it('lets a logged-in user through; 403 for one lacking the permission', async () => {
        const { client } = await setup()
        const bob = await loggedIn(client(), 'bob')
        expect(await bob.json('/private')).toEqual({ user: 'bob' })
        expect((await bob.send('/perm')).status).toBe(403)
        const alice = await loggedIn(client(), 'alice')
        expect(await alice.json('/perm')).toEqual({ user: 'alice' })
      })

      it('checks the permission for Basic credentials: 403 without it, 200 with it', async () => {
        const { client } = await setup()
        const bob = await client().send('/perm', {
          headers: { authorization: basicHeader('bob', 'bob-password') },
        })
        expect(bob.status).toBe(403)
        const alice = client()
        const headers = { authorization: basicHeader('alice', 'correct:horse:battery') }
        expect(await alice.json('/perm', { headers })).toEqual({ user: 'alice' })
      })

      it('logs the Basic user in when the guard says so', async () => {
        const { client } = await setup()
        const c = client()
        const headers = { authorization: basicHeader('bob', 'bob-password') }
        expect(await c.json('/private-login', { headers })).toEqual({ user: 'bob' })
        expect(c.cookie).toMatch(/^[a-z0-9]{32}$/)
        expect(await c.json('/whoami')).toEqual({ user: 'bob' })
      })
    })

    describe('hostile cookies and failing stores', () => {
      it('treats forged, truncated, wrong-alphabet and oversized cookies as no session', async () => {
        const { client } = await setup()
        const real = await loggedIn(client())
        const id = real.cookie!
        const forged = [
          'a'.repeat(32),
          id.slice(0, 31),
          `${id}x`,
          id.toUpperCase(),
          `${id.slice(0, 31)}-`,
          '../../etc/passwd',
          'x'.repeat(10 * 1024),
          '%00%ff',
        ]
        for (const cookie of forged) {
          const response = await client().send('/whoami', { cookie })
          expect(response.status, cookie.slice(0, 40)).toBe(200)
          expect(await response.json()).toEqual({ user: null })
        }
        expect(await real.json('/whoami')).toEqual({ user: 'alice' })
      })

      it('answers 503 when the backend throws, on read and on write', async () => {
        const broken: SessionBackend = {
          ...memoryBackend(),
          name: 'broken',
          load: async () => {
            throw new Error('connection refused')
          },
          create: async () => {
            throw new Error('connection refused')
          },
        }
        const { client } = await setup({ session: { backend: broken } })
        expect((await client().send('/read?key=a', { cookie: 'a'.repeat(32) })).status).toBe(503)
        expect((await client().send('/write?key=a&value=1')).status).toBe(503)
        expect((await client().send('/whoami', { cookie: 'a'.repeat(32) })).status).toBe(503)
      })

      it('answers a failing store with a generic 503 body: no backend name, message or stack', async () => {
        const secret = 'db.internal:5432 refused the connection'
        const fail = async () => {
          throw new Error(secret)
        }
        const broken: SessionBackend = {
          ...memoryBackend(),
          name: 'broken',
          load: fail,
          create: fail,
          save: fail,
        }
        const { client } = await setup({ session: { backend: broken } })
        for (const [path, cookie] of [
          ['/read?key=a', 'a'.repeat(32)],
          ['/write?key=a&value=1', null],
          ['/whoami', 'a'.repeat(32)],
        ] as const) {
          const response = await client().send(path, { cookie })
          expect(response.status, path).toBe(503)
          const body = await response.text()
          expect(body, path).not.toMatch(/refused|sessionbridge|broken|db\.internal|at .*\.ts/)
        }
      })

      it('answers 409 when an update kept conflicting (SessionConflictError), generic body', async () => {
        const conflicting: SessionBackend = {
          ...memoryBackend(),
          name: 'conflicting',
          create: async () => {
            throw new SessionConflictError('conflicting', 'count', 3)
          },
        }
        const { client } = await setup({ session: { backend: conflicting } })
        const response = await client().send('/incr')
        expect(response.status).toBe(409)
        expect(await response.text()).not.toMatch(/conflicting|sessionbridge/)
      })

      it('answers 503, not a hang, when the backend never answers', async () => {
        const hanging: SessionBackend = {
          ...memoryBackend(),
          name: 'hanging',
          load: () => new Promise(() => {}),
        }
        const { client } = await setup({ session: { backend: hanging, timeout: 100 } })
        expect((await client().send('/read?key=a', { cookie: 'b'.repeat(32) })).status).toBe(503)
      })
    })

    describe('cookie flags and signing', () => {
      it('sets Secure only for HTTPS as told by a trusted proxy', async () => {
        const trusting = await setup({ trustProxy: true })
        const https = await trusting
          .client()
          .send('/write?key=a&value=1', { headers: { 'x-forwarded-proto': 'https' } })
        expect(setCookieOf(https, 'sessionid')?.header).toMatch(/; Secure/)
        const http = await trusting.client().send('/write?key=a&value=1')
        expect(setCookieOf(http, 'sessionid')?.header).not.toMatch(/Secure/)
        const plain = await setup()
        const spoofed = await plain
          .client()
          .send('/write?key=a&value=1', { headers: { 'x-forwarded-proto': 'https' } })
        expect(setCookieOf(spoofed, 'sessionid')?.header).not.toMatch(/Secure/)
      })

      it('signs cookies, refuses tampered ones, and re-signs under a rotated secret', async () => {
        const oldSecret = 'old-secret-0123456789abcdef'
        const newSecret = 'new-secret-0123456789abcdef'
        const before = await setup({ session: { secrets: [oldSecret] } })
        const c = before.client()
        await c.json('/write?key=a&value=kept')
        expect(c.cookie).toMatch(/^[a-z0-9]{32}\.[A-Za-z0-9_-]{43}$/)
        const id = c.cookie!.split('.')[0]!
        expect(await c.json('/read?key=a', { cookie: id })).toEqual({ value: null })
        expect(await c.json('/read?key=a', { cookie: `${id}.${'A'.repeat(43)}` })).toEqual({ value: null })

        const after = await setup({ session: { backend: before.backend, secrets: [newSecret, oldSecret] } })
        const rotated = new Client(after.app)
        rotated.cookie = c.cookie
        const response = await rotated.send('/read?key=a')
        expect(await response.json()).toEqual({ value: 'kept' })
        expect(rotated.cookie).toMatch(new RegExp(`^${id}\\.[A-Za-z0-9_-]{43}$`))
        expect(rotated.cookie).not.toBe(c.cookie)
        const newOnly = await setup({ session: { backend: before.backend, secrets: [newSecret] } })
        expect(await new Client(newOnly.app).json('/read?key=a', { cookie: rotated.cookie })).toEqual({
          value: 'kept',
        })
      })
    })

    describe('realtime tickets', () => {
      it('issues a one-time ticket to a logged-in user only', async () => {
        const { client, tickets } = await setup()
        const anonymous = await client().send('/ticket')
        expect(anonymous.status).toBe(401)
        expect(await anonymous.json()).toMatchObject({ status: 'error' })
        const c = await loggedIn(client())
        const body = await c.json('/ticket')
        expect(body.status).toBe('ok')
        const ticket = body.message as string
        expect(await tickets!.consume(ticket)).toMatchObject({ userId: '1', username: 'alice' })
        expect(await tickets!.consume(ticket)).toBeNull()
      })

      it('answers 503 JSON when the ticket store is down', async () => {
        const down: TicketStore = {
          name: 'down',
          issue: async () => {
            throw new Error('store down')
          },
          consume: async () => null,
        }
        const { client } = await setup({ tickets: down })
        const c = await loggedIn(client())
        const response = await c.send('/ticket')
        expect(response.status).toBe(503)
        expect(await response.json()).toMatchObject({ status: 'error' })
        expect(await c.json('/page')).toEqual({ ticket: null })
      })

      it('puts a fresh ticket on each page view, null without a user or a store', async () => {
        const { client, tickets } = await setup()
        expect(await client().json('/page')).toEqual({ ticket: null })
        const c = await loggedIn(client())
        const { ticket } = (await c.json('/page')) as { ticket: string }
        expect(await tickets!.consume(ticket)).toMatchObject({ username: 'alice' })
        const none = await setup({ tickets: null })
        expect(await (await loggedIn(none.client())).json('/page')).toEqual({ ticket: null })
      })

      it("logout revokes the user's unconsumed tickets", async () => {
        const { client, tickets } = await setup()
        const c = await loggedIn(client())
        const kept = await loggedIn(client(), 'bob')
        const ticket = (await c.json('/ticket')).message as string
        const other = (await kept.json('/ticket')).message as string
        await c.json('/logout')
        expect(await tickets!.consume(ticket)).toBeNull()
        expect(await tickets!.consume(other)).toMatchObject({ username: 'bob' })
      })
    })
  })
}

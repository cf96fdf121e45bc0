import { afterEach, describe, expect, it } from 'vitest'
import { memoryAttemptStore } from '../attempts-memory.ts'
import type { CsrfExtensionOptions } from '../csrf-extension.ts'
import { memoryBackend } from '../memory.ts'
import type { SessionManagerOptions } from '../options.ts'
import { type LoginThrottle, loginThrottle } from '../throttle.ts'
import { type MemoryUserSource, memoryUserSource } from '../users-memory.ts'

/**
 * What `testFrameworkSecurity` gives `makeApp`. Pass `session`, `users`, `csrf` and `throttle` to the
 * framework package; the app listens on a real port and serves, through the package:
 *
 * | route | does | answers |
 * |---|---|---|
 * | `GET /token` | the framework's `csrfToken()` | `{ token }` |
 * | `POST /login` | urlencoded or JSON `username`/`password`: the framework's `authenticate()`, then `login(user)` | `{ user }`; 401 `{}`; throttled: 429 with `Retry-After` |
 * | `POST /logout` | the framework's `logout()` | `{ ok: true }` |
 * | `POST /write` | `session.set('x', 1)`; a urlencoded body is parsed before the session middleware where the framework needs that | `{ ok: true }` |
 * | `POST /exempt` | the same, on a route opted out of the CSRF check (Fastify: `config: { csrf: false }`; others: `csrf.exempt` already covers `/exempt`) | `{ ok: true }` |
 * | `GET /private` | `loggedInOrBasicAuth()` | `{ user }` |
 */
export interface SecurityAppOptions {
  session: SessionManagerOptions
  users: MemoryUserSource
  csrf: CsrfExtensionOptions
  throttle: LoginThrottle
}

/** Options of `testFrameworkSecurity`. */
export interface FrameworkSecurityOptions {
  name: string
  /** Starts the app on a free port; resolves to its base URL (`http://127.0.0.1:<port>`). */
  makeApp(options: SecurityAppOptions): Promise<{ url: string; close(): Promise<void> }>
}

const basic = (u: string, p: string) => `Basic ${btoa(`${u}:${p}`)}`

/** A cookie jar over real HTTP, sending what a page script would. */
class Jar {
  cookies = new Map<string, string>()
  constructor(readonly base: string) {}
  async send(
    path: string,
    init: {
      method?: string
      headers?: Record<string, string>
      form?: Record<string, string>
      json?: unknown
    } = {},
  ) {
    const headers = new Headers(init.headers)
    let body: string | undefined
    if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded')
      body = new URLSearchParams(init.form).toString()
    } else if (init.json !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(init.json)
    }
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const response = await fetch(this.base + path, {
      method: init.method ?? 'GET',
      headers,
      body,
      redirect: 'manual',
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      const value = pair!.slice(eq + 1)
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(pair!.slice(0, eq))
      else this.cookies.set(pair!.slice(0, eq), value)
    }
    return response
  }
  async token(): Promise<string> {
    return ((await (await this.send('/token')).json()) as { token: string }).token
  }
}

/** The CSRF and throttle behaviour every framework package must show (each runs this suite). */
export function testFrameworkSecurity(options: FrameworkSecurityOptions): void {
  describe(`${options.name}: CSRF and login throttling`, () => {
    const running: { close(): Promise<void> }[] = []
    afterEach(async () => {
      for (const app of running.splice(0)) await app.close()
    })
    const start = async (csrf: CsrfExtensionOptions = {}) => {
      const users = memoryUserSource({
        users: [
          { id: 1, username: 'alice', password: 'alice-pw' },
          { id: 2, username: 'bob', password: 'bob-pw' },
        ],
        iterations: 1000,
      })
      const throttle = loginThrottle({
        store: memoryAttemptStore(),
        perUsername: { limit: 3, windowMs: 60_000 },
      })
      const app = await options.makeApp({
        session: { backend: memoryBackend() },
        users,
        csrf: { djangoVersion: '3.2', exempt: ({ path }) => path === '/exempt', ...csrf },
        throttle,
      })
      running.push(app)
      return new Jar(app.url)
    }

    it('needs the token on unsafe methods: header or form field; 403 JSON with a reason otherwise', async () => {
      const jar = await start()
      expect((await jar.send('/write', { method: 'POST' })).status).toBe(403)
      const token = await jar.token()
      expect(jar.cookies.get('csrftoken')).toMatch(/^[A-Za-z0-9]{64}$/)
      const missing = await jar.send('/write', { method: 'POST' })
      expect(missing.status).toBe(403)
      expect(await missing.json()).toEqual({ error: 'CSRF verification failed', reason: 'token-missing' })
      expect((await jar.send('/write', { method: 'POST', headers: { 'x-csrftoken': token } })).status).toBe(
        200,
      )
      expect(
        (await jar.send('/write', { method: 'POST', form: { csrfmiddlewaretoken: token } })).status,
      ).toBe(200)
      const crossSite = await jar.send('/write', {
        method: 'POST',
        headers: { 'x-csrftoken': token, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      })
      expect(await crossSite.json()).toMatchObject({ reason: 'bad-origin' })
      const sameOrigin = await jar.send('/write', {
        method: 'POST',
        headers: {
          'x-csrftoken': token,
          'sec-fetch-site': 'same-origin',
          origin: 'https://elsewhere.example',
        },
      })
      expect(sameOrigin.status).toBe(200)
      expect((await jar.send('/exempt', { method: 'POST' })).status).toBe(200)
    })

    it('rotates the token at login and at logout', async () => {
      const jar = await start()
      const before = await jar.token()
      const login = await jar.send('/login', {
        method: 'POST',
        headers: { 'x-csrftoken': before },
        json: { username: 'alice', password: 'alice-pw' },
      })
      expect(login.status).toBe(200)
      expect((await jar.send('/write', { method: 'POST', headers: { 'x-csrftoken': before } })).status).toBe(
        403,
      )
      const after = jar.cookies.get('csrftoken')!
      expect((await jar.send('/write', { method: 'POST', headers: { 'x-csrftoken': after } })).status).toBe(
        200,
      )
      expect((await jar.send('/logout', { method: 'POST', headers: { 'x-csrftoken': after } })).status).toBe(
        200,
      )
      expect(jar.cookies.get('csrftoken')).not.toBe(after)
      expect((await jar.send('/write', { method: 'POST', headers: { 'x-csrftoken': after } })).status).toBe(
        403,
      )
    })

    it('throttles logins per username: 429 with Retry-After, other users unaffected', async () => {
      const jar = await start()
      const token = await jar.token()
      const attempt = (username: string, password: string) =>
        jar.send('/login', {
          method: 'POST',
          headers: { 'x-csrftoken': token },
          json: { username, password },
        })
      for (let i = 0; i < 3; i++) expect((await attempt('alice', 'wrong')).status).toBe(401)
      const refused = await attempt('alice', 'alice-pw')
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      expect((await attempt('bob', 'bob-pw')).status).toBe(200)
    })

    it('throttles Basic credentials in the guards the same way', async () => {
      const jar = await start()
      const guarded = (password: string) =>
        fetch(`${jar.base}/private`, { headers: { authorization: basic('bob', password) } })
      expect((await guarded('bob-pw')).status).toBe(200)
      for (let i = 0; i < 3; i++) expect((await guarded('nope')).status).toBe(401)
      const refused = await guarded('bob-pw')
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    })
  })
}

/** The example's HTTP contract end to end, written once and run against every backend (one file each). */
import { notApplicable } from '@sessionbridge/core/testing'
import { sqlStatement } from '@sessionbridge/sql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashDjangoPassword } from '../src/database.ts'
import { manage } from '../src/django.ts'
import { seedUser } from '../src/schema.ts'
import { Client } from './client.ts'
import { AUDITOR, startTestExample, type TestExample } from './harness.ts'

const DEMO = { username: 'demo', password: 'demo-password' }

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now()
  const value = await fn()
  return { value, ms: Math.round(performance.now() - start) }
}

/** The token with its last character changed (never to itself). */
const tamper = (token: string) => `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

/** The whole contract, end to end over HTTP, against one backend. */
export function sharedLoginSuite(
  label: string,
  env: () => Promise<Record<string, string>>,
  expectDjango: boolean,
) {
  describe(label, () => {
    let ex: TestExample
    beforeAll(async () => {
      ex = await startTestExample(await env())
    })
    afterAll(async () => {
      await ex?.cleanup()
    })

    it(
      expectDjango ? 'runs Fastify, Koa, Hono, Express and Django' : 'runs Fastify, Koa, Hono and Express',
      () => {
        expect(ex.apps.map(([name]) => name)).toEqual(
          expectDjango
            ? ['Fastify', 'Koa', 'Hono', 'Express', 'Django']
            : ['Fastify', 'Koa', 'Hono', 'Express'],
        )
      },
    )

    it('a login on any app is seen by every other app', async () => {
      for (const [name, url] of ex.apps) {
        const client = new Client()
        const login = await client.login(url, DEMO.username, DEMO.password)
        expect(login, `login on ${name}`).toMatchObject({ status: 200, body: { username: 'demo' } })
        for (const [other, otherUrl] of ex.apps) {
          const who = await client.whoami(otherUrl)
          expect(who.body, `${other} after a login on ${name}`).toEqual({
            authenticated: true,
            id: login.body.id,
            username: 'demo',
          })
        }
      }
    })

    it(`with two session cookies every app${expectDjango ? ', Django included,' : ''} reads the last one (issue 14.10)`, async () => {
      const cookie = ex.config.cookieName
      const demo = new Client()
      const auditor = new Client()
      expect((await demo.login(ex.apps[0]![1], DEMO.username, DEMO.password)).status).toBe(200)
      expect((await auditor.login(ex.apps[0]![1], AUDITOR.username, AUDITOR.password)).status).toBe(200)
      const a = demo.cookies.get(cookie)
      const b = auditor.cookies.get(cookie)
      expect(a && b && a !== b).toBeTruthy()
      const cases: Array<[string, string | null]> = [
        [`${cookie}=${a}; ${cookie}=${b}`, AUDITOR.username],
        [`${cookie}=${b}; theme=dark; ${cookie}=${a}`, DEMO.username],
        [`${cookie}=${a};${cookie}=${b}`, AUDITOR.username],
        [`${cookie}=${a}; ${cookie}=`, null], // an empty last cookie is no session, not the first
      ]
      for (const [header, expected] of cases) {
        for (const [name, url] of ex.apps) {
          const response = await fetch(`${url}/whoami`, { headers: { cookie: header }, redirect: 'manual' })
          const body = (await response.json()) as { username: string | null }
          expect(body.username, `${name}: ${header}`).toBe(expected)
        }
      }
    })

    it('a logout on any app logs out everywhere, and the old cookie is worthless', async () => {
      for (const [name, url] of ex.apps) {
        const client = new Client()
        await client.login(ex.apps[0]![1], DEMO.username, DEMO.password)
        const stolen = new Client()
        for (const [k, v] of client.cookies) stolen.cookies.set(k, v)
        expect((await client.request(`${url}/logout`, { method: 'POST' })).status, `logout on ${name}`).toBe(
          204,
        )
        for (const [other, otherUrl] of ex.apps) {
          expect((await client.whoami(otherUrl)).body.authenticated, `${other} after logout on ${name}`).toBe(
            false,
          )
          expect((await stolen.whoami(otherUrl)).body.authenticated, `old cookie on ${other}`).toBe(false)
        }
      }
    })

    it(
      expectDjango
        ? 'a password changed in Django ends the Node sessions'
        : 'a password changed in auth_user ends the sessions',
      async () => {
        const { client: sql } = ex.stack.database
        await seedUser(sql, { username: 'changer', passwordHash: await hashDjangoPassword('old-password') })
        const sessions = [new Client(), new Client()]
        for (const [i, client] of sessions.entries()) {
          const url = ex.nodeApps[i % ex.nodeApps.length]![1]
          expect((await client.login(url, 'changer', 'old-password')).status).toBe(200)
        }
        if (expectDjango) await manage(ex.config, ['set_password', 'changer', 'new-password'])
        else {
          const update = sqlStatement(
            sql.dialect,
            (p) => `UPDATE auth_user SET password = ${p()} WHERE username = ${p()}`,
          )
          await sql.query(update, [await hashDjangoPassword('new-password'), 'changer'])
        }
        for (const client of sessions) {
          for (const [name, url] of ex.apps) {
            expect((await client.whoami(url)).body.authenticated, `${name} after the password change`).toBe(
              false,
            )
          }
        }
        const fresh = new Client()
        expect((await fresh.login(ex.nodeApps[2]![1], 'changer', 'old-password')).status).toBe(401)
        expect((await fresh.login(ex.nodeApps[2]![1], 'changer', 'new-password')).status).toBe(200)
      },
    )

    it('the counter incremented alternately through all apps reaches the exact total', async () => {
      const client = new Client()
      await client.login(ex.apps[0]![1], DEMO.username, DEMO.password)
      const rounds = 4
      let expected = 0
      for (let round = 0; round < rounds; round++) {
        for (const [name, url] of ex.apps) {
          expected++
          const reply = await client.json<{ count: number }>(`${url}/counter`, { method: 'POST' })
          expect(reply, `counter on ${name}`).toEqual({ status: 200, body: { count: expected } })
        }
      }
      expect(expected).toBe(rounds * ex.apps.length)
      // The login survived all those writes.
      expect((await client.whoami(ex.apps[1]![1])).body.username).toBe('demo')
    })

    it('200 parallel POST /counter on one session return 1..200, each once, and the next returns 201', async (ctx) => {
      // A backend that learns its capabilities from its server (rest-sessions) asks first: run alone,
      // this test must not find the cautious answer and skip.
      await ex.stack.backend.ready?.()
      if (!ex.stack.backend.capabilities.update)
        return notApplicable(ctx, `${ex.stack.backend.name} declares no update`)
      const client = new Client()
      await client.login(ex.nodeApps[0]![1], DEMO.username, DEMO.password)
      const parallel = 200
      const replies = await Promise.all(
        Array.from({ length: parallel }, (_, i) =>
          client.json<{ count: number }>(`${ex.nodeApps[i % ex.nodeApps.length]![1]}/counter`, {
            method: 'POST',
          }),
        ),
      )
      expect(replies.filter((r) => r.status !== 200)).toEqual([])
      const counts = replies.map((r) => r.body.count).sort((a, b) => a - b)
      expect(counts).toEqual(Array.from({ length: parallel }, (_, i) => i + 1))
      const next = await client.json<{ count: number }>(`${ex.nodeApps[1]![1]}/counter`, { method: 'POST' })
      expect(next).toEqual({ status: 200, body: { count: parallel + 1 } })
      expect((await client.whoami(ex.nodeApps[2]![1])).body.username).toBe('demo')
    })

    it('Django in the same race: its whole-record save loses increments (documented)', async (ctx) => {
      if (!expectDjango) {
        return notApplicable(ctx, `Django does not share the ${ex.stack.backend.name} sessions of this run`)
      }
      const django = ex.apps.find(([name]) => name === 'Django')![1]
      const client = new Client()
      await client.login(django, DEMO.username, DEMO.password)
      const parallel = 50
      const replies = await Promise.all(
        Array.from({ length: parallel }, () =>
          client.json<{ count: number }>(`${django}/counter`, { method: 'POST' }),
        ),
      )
      expect(replies.every((r) => r.status === 200)).toBe(true)
      const after = await client.json<{ count: number }>(`${django}/counter`, { method: 'POST' })
      const lost = parallel + 1 - after.body.count
      console.log(`Django /counter: ${parallel} parallel posts, ${lost} increments lost (whole-record save)`)
      expect(after.body.count).toBeGreaterThanOrEqual(1)
      expect(after.body.count).toBeLessThanOrEqual(parallel + 1)
    })

    it('answers bad credentials and bad bodies with 401 and 400, never 500', async () => {
      for (const [name, url] of ex.nodeApps) {
        const client = new Client()
        expect((await client.login(url, 'demo', 'wrong')).status, name).toBe(401)
        expect((await client.login(url, 'nobody', 'x')).body, name).toEqual({
          error: 'invalid username or password',
        })
        const malformed = await client.request(`${url}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"username":',
        })
        expect(malformed.status, `${name} malformed JSON`).toBe(400)
        const huge = await client.request(`${url}/login`, {
          method: 'POST',
          form: { username: 'x'.repeat(40_000) },
        })
        expect([400, 413], `${name} oversized form`).toContain(huge.status)
        expect(client.cookies.has(ex.config.cookieName), name).toBe(false)
      }
    })

    it('a form login redirects back to the page, and never to another site', async () => {
      for (const [name, url] of ex.nodeApps) {
        const client = new Client()
        const form = await client.request(`${url}/login`, { method: 'POST', form: { ...DEMO, next: '/' } })
        expect(form.status, name).toBe(303)
        expect(form.headers.get('location'), name).toBe('/')
        const page = await (await client.request(`${url}/`)).text()
        expect(page, name).toContain('Logged in as <strong id="username">demo</strong>')
        const bad = await new Client().request(`${url}/login`, {
          method: 'POST',
          form: { ...DEMO, next: '//evil.example' },
        })
        expect(bad.status, name).toBe(200)
        const wrong = await new Client().request(`${url}/login`, {
          method: 'POST',
          form: { ...DEMO, password: 'x', next: '/' },
        })
        expect(wrong.headers.get('location'), name).toBe('/?error=1')
      }
    })

    it('the page escapes what it renders and links to the other apps', async () => {
      await seedUser(ex.stack.database.client, {
        username: '<img src=x onerror=alert(1)>',
        passwordHash: await hashDjangoPassword('xss-password'),
      })
      for (const [name, url] of ex.apps) {
        const client = new Client()
        expect((await client.login(url, '<img src=x onerror=alert(1)>', 'xss-password')).status, name).toBe(
          200,
        )
        const page = await (await client.request(`${url}/`)).text()
        expect(page, name).not.toContain('<img src=x')
        expect(page, name).toMatch(/&(lt|#60);img src=x onerror=alert\(1\)&(gt|#62);/)
        for (const [other, otherUrl] of ex.apps)
          if (other !== name) expect(page, name).toContain(`href="${otherUrl}"`)
      }
    })

    it('guards /feed with the session or Basic auth, and /admin-feed with auth.view_user', async () => {
      for (const [name, url] of ex.nodeApps) {
        const anonymous = await fetch(`${url}/feed`)
        expect(anonymous.status, name).toBe(401)
        expect(anonymous.headers.get('www-authenticate'), name).toMatch(
          /^Basic realm="[^"]+", charset="UTF-8"$/,
        )
        const byBasic = await fetch(`${url}/feed`, {
          headers: { authorization: basic(DEMO.username, DEMO.password) },
        })
        expect(byBasic.status, name).toBe(200)
        expect(await byBasic.text(), name).toContain('demo')
        expect((await fetch(`${url}/feed`, { headers: { authorization: 'Basic %%%' } })).status, name).toBe(
          401,
        )

        const client = new Client()
        await client.login(url, DEMO.username, DEMO.password)
        expect((await client.request(`${url}/feed`)).status, `${name} logged in`).toBe(200)
        expect((await client.request(`${url}/admin-feed`)).status, `${name} demo lacks the permission`).toBe(
          403,
        )
        const admin = await fetch(`${url}/admin-feed`, {
          headers: { authorization: basic(AUDITOR.username, AUDITOR.password) },
        })
        expect(admin.status, name).toBe(200)
        expect(await admin.text(), name).toContain('auditor')
      }
    })

    it('refuses a cross-site form login with 403 on every app, and sets no session', async () => {
      for (const [name, url] of ex.apps) {
        const crossSite = {
          origin: 'http://evil.example',
          'sec-fetch-site': 'cross-site',
        }
        // The attacker's page cannot read the victim's csrftoken, so it posts none (or a guess).
        for (const cookies of [false, true]) {
          const victim = new Client()
          if (cookies) await victim.whoami(url)
          const reply = await victim.request(`${url}/login`, {
            method: 'POST',
            headers: crossSite,
            form: { ...DEMO, next: '/', csrfmiddlewaretoken: 'A'.repeat(64) },
            csrf: false,
          })
          expect(reply.status, `${name} (csrftoken cookie: ${cookies})`).toBe(403)
          expect(((await reply.json()) as { error: string }).error, name).toBe('CSRF verification failed')
          expect(victim.cookies.has(ex.config.cookieName), name).toBe(false)
        }
      }
    })

    it('a POST with the session cookie but no token is 403, with the token 200, on every app', async () => {
      const client = new Client()
      await client.login(ex.apps[0]![1], DEMO.username, DEMO.password)
      for (const [name, url] of ex.apps) {
        const bare = await client.request(`${url}/counter`, { method: 'POST', csrf: false })
        expect(bare.status, `${name} without a token`).toBe(403)
        const forged = await client.request(`${url}/counter`, {
          method: 'POST',
          csrf: false,
          headers: { 'x-csrftoken': tamper(client.cookies.get('csrftoken')!) },
        })
        expect(forged.status, `${name} with a tampered token`).toBe(403)
        expect((await client.request(`${url}/counter`, { method: 'POST' })).status, name).toBe(200)
        // The form field works as well as the header.
        const token = client.cookies.get('csrftoken')!
        const form = await client.request(`${url}/counter`, {
          method: 'POST',
          csrf: false,
          form: { csrfmiddlewaretoken: token },
        })
        expect(form.status, `${name} with the form field`).toBe(200)
      }
      for (const [name, url] of ex.nodeApps) {
        for (const path of ['/ticket', '/logout']) {
          const reply = await client.request(`${url}${path}`, { method: 'POST', csrf: false })
          expect(reply.status, `${name} ${path} without a token`).toBe(403)
        }
      }
      expect((await client.whoami(ex.apps[0]![1])).body.username).toBe('demo')
      // The token the last app minted at its login (Django's, when it runs) passes every other app.
      const last = ex.apps.at(-1)!
      const other = new Client()
      expect((await other.login(last[1], DEMO.username, DEMO.password)).status).toBe(200)
      const minted = other.cookies.get('csrftoken')!
      for (const [name, url] of ex.apps) {
        const reply = await other.request(`${url}/counter`, { method: 'POST' })
        expect(reply.status, `${name} with the token ${last[0]} minted`).toBe(200)
      }
      expect(other.cookies.get('csrftoken')).toBe(minted)
    })

    it('100 wrong passwords for one user end in 429 while another user logs in normally', async () => {
      const { client: sql } = ex.stack.database
      for (const [name, url] of ex.apps) {
        const victim = `victim-${name.toLowerCase()}`
        await seedUser(sql, { username: victim, passwordHash: await hashDjangoPassword('right-password') })
        const baseline = await timed(() => new Client().login(url, AUDITOR.username, AUDITOR.password))
        expect(baseline.value.status, `${name} baseline`).toBe(200)
        const statuses: number[] = []
        let retryAfter: string | null = null
        let during: { value: { status: number }; ms: number } | null = null
        for (let batch = 0; batch < 10; batch++) {
          const replies = Promise.all(
            Array.from({ length: 10 }, async (_, i) => {
              const client = new Client()
              const reply = await client.request(`${url}/login`, {
                method: 'POST',
                json: { username: victim, password: `guess-${batch}-${i}` },
              })
              if (reply.status === 429) retryAfter = reply.headers.get('retry-after')
              return reply.status
            }),
          )
          // Another user's login in the same second as the guesses.
          if (batch === 1)
            during = await timed(() => new Client().login(url, AUDITOR.username, AUDITOR.password))
          statuses.push(...(await replies))
        }
        const counts = Object.fromEntries([401, 429].map((s) => [s, statuses.filter((x) => x === s).length]))
        expect(counts[401]! + counts[429]!, `${name} only 401 and 429`).toBe(100)
        expect(counts[401], `${name} at most 10 hashed guesses`).toBeLessThanOrEqual(10)
        expect(statuses.at(-1), name).toBe(429)
        expect(Number(retryAfter), `${name} Retry-After`).toBeGreaterThan(0)
        expect(during!.value.status, `${name} the other user`).toBe(200)
        // Loose: the other login must not queue behind 100 hashes (measured times are in the log).
        expect(during!.ms, `${name} the other user's login time`).toBeLessThan(baseline.ms * 20 + 5000)
        console.info(`[throttle] ${name}: baseline ${baseline.ms} ms, during the flood ${during!.ms} ms`)
        // Even the right password waits for the window now.
        expect((await new Client().login(url, victim, 'right-password')).status, name).toBe(429)
      }
    })

    it('issues realtime tickets to logged-in users only, each usable once', async () => {
      for (const [name, url] of ex.nodeApps) {
        expect((await new Client().request(`${url}/ticket`, { method: 'POST' })).status, name).toBe(401)
        const client = new Client()
        await client.login(url, DEMO.username, DEMO.password)
        const reply = await client.json<{ status: string; message: string }>(`${url}/ticket`, {
          method: 'POST',
        })
        expect(reply.status, name).toBe(200)
        expect(reply.body.status, name).toBe('ok')
        const payload = await ex.stack.tickets.consume(reply.body.message)
        expect(payload, name).toMatchObject({ username: 'demo' })
        expect(await ex.stack.tickets.consume(reply.body.message), `${name} replay`).toBeNull()
      }
    })

    it("a logout on any Node app revokes the user's unconsumed tickets (issue 14.11)", async () => {
      for (const [name, url] of ex.nodeApps) {
        const client = new Client()
        await client.login(url, DEMO.username, DEMO.password)
        const tickets: string[] = []
        for (let i = 0; i < 2; i++) {
          const reply = await client.json<{ message: string }>(`${url}/ticket`, { method: 'POST' })
          expect(reply.status, name).toBe(200)
          tickets.push(reply.body.message)
        }
        // Another user's ticket survives the logout.
        const other = await ex.stack.tickets.issue({ userId: '999999', username: 'other' }, 10_000)
        expect((await client.request(`${url}/logout`, { method: 'POST' })).status, `logout on ${name}`).toBe(
          204,
        )
        for (const ticket of tickets) expect(await ex.stack.tickets.consume(ticket), name).toBeNull()
        expect(await ex.stack.tickets.consume(other), name).toMatchObject({ username: 'other' })
      }
    })
  })
}

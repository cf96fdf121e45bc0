/** The example's HTTP contract end to end, written once and run against every backend (one file each). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashDjangoPassword } from '../src/database.ts'
import { manage } from '../src/django.ts'
import { seedUser } from '../src/schema.ts'
import { Client } from './client.ts'
import { AUDITOR, startTestExample, type TestExample } from './harness.ts'

const DEMO = { username: 'demo', password: 'demo-password' }

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

    it(expectDjango ? 'runs Fastify, Koa, Hono and Django' : 'runs Fastify, Koa and Hono', () => {
      expect(ex.apps.map(([name]) => name)).toEqual(
        expectDjango ? ['Fastify', 'Koa', 'Hono', 'Django'] : ['Fastify', 'Koa', 'Hono'],
      )
    })

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
          await sql.query('UPDATE auth_user SET password = ? WHERE username = ?', [
            await hashDjangoPassword('new-password'),
            'changer',
          ])
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
        expect(client.cookies.size, name).toBe(0)
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

    it('issues realtime tickets to logged-in users only, each usable once', async () => {
      for (const [name, url] of ex.nodeApps) {
        expect((await fetch(`${url}/ticket`, { method: 'POST' })).status, name).toBe(401)
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
  })
}

/**
 * Issue 14.12, deployment hygiene, on all four apps: security headers, deep JSON answered 400,
 * Django under a real WSGI server (200 parallel requests all answered), `check --deploy` clean
 * apart from what the README explains, and 14.1's `next` over HTTP on every app.
 */
import { execFile } from 'node:child_process'
import { request } from 'node:http'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DJANGO_DIR, djangoInstalled, PYTHON } from '../src/django.ts'
import { SECURITY_HEADERS } from '../src/security.ts'
import { Client } from './client.ts'
import { startTestExample, type TestExample } from './harness.ts'

const run = promisify(execFile)
const djangoHere = await djangoInstalled()
const DEMO = { username: 'demo', password: 'demo-password' }
const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

describe('deployment hygiene on every app', () => {
  let ex: TestExample
  beforeAll(async () => {
    ex = await startTestExample({ SESSION_BACKEND: 'sql' })
  })
  afterAll(async () => {
    await ex?.cleanup()
  })

  it.skipIf(!djangoHere)('runs Django too (under gunicorn)', () => {
    expect(ex.apps.map(([name]) => name)).toContain('Django')
  })

  it('every app sends X-Frame-Options, X-Content-Type-Options and Referrer-Policy', async () => {
    for (const [name, url] of ex.apps) {
      for (const [method, path] of [
        ['GET', '/'],
        ['GET', '/whoami'],
        ['POST', '/login'],
      ] as const) {
        const reply = await new Client().request(`${url}${path}`, { method })
        for (const [header, value] of Object.entries(SECURITY_HEADERS)) {
          expect(reply.headers.get(header), `${name} ${method} ${path} ${header}`).toBe(value)
        }
      }
    }
  })

  it('a Host header carrying userinfo, a space or a path gets a 4xx from every app, never a 500', async () => {
    // `9a@0:80` once slipped past @hono/node-server's own host check and made the Hono app 500.
    const statusFor = (url: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(url)
        request({ hostname, port, method: 'POST', path: '/login', headers: { host } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
          .on('error', reject)
          .end()
      })
    for (const [name, url] of ex.apps) {
      for (const host of ['9a@0:80', 'user@127.0.0.1', 'a b', '127.0.0.1/x']) {
        const status = await statusFor(url, host)
        expect(status, `${name} Host: ${host}`).toBeLessThan(500)
      }
    }
  })

  it('JSON nested 7,000 deep gets 400 from every app, Django included', async () => {
    for (const [name, url] of ex.apps) {
      const reply = await new Client().request(`${url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: deepJson(7000),
      })
      expect(reply.status, name).toBe(400)
    }
  })

  it('the login of issue 14.1 (next=/€) redirects with an encoded Location on every app, which keep serving', async () => {
    for (const [name, url] of ex.apps) {
      const reply = await new Client().request(`${url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=x&password=y&next=%2F%E2%82%AC',
      })
      expect(reply.status, name).toBe(303)
      expect(reply.headers.get('location'), name).toBe('/%E2%82%AC?error=1')
      const ok = await new Client().request(`${url}/login`, {
        method: 'POST',
        form: { ...DEMO, next: '/€#x' },
      })
      expect(ok.headers.get('location'), name).toBe('/%E2%82%AC#x')
      for (const bad of ['/\u007f', '/a\u0001b', '//evil.example', '/\\evil.example']) {
        const refused = await new Client().request(`${url}/login`, {
          method: 'POST',
          form: { ...DEMO, next: bad },
        })
        expect(refused.status, `${name} next=${JSON.stringify(bad)}`).toBe(200)
      }
      expect((await fetch(`${url}/whoami`)).status, `${name} still serving`).toBe(200)
    }
  })

  it.skipIf(!djangoHere)('Django answers 200 parallel requests (no backlog of 5)', async () => {
    const url = ex.urls.django!
    const started = Date.now()
    const replies = await Promise.all(
      Array.from({ length: 200 }, () =>
        fetch(`${url}/whoami`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.status),
      ),
    )
    expect(replies.filter((s) => s === 200).length).toBe(200)
    console.log(`Django: 200 parallel /whoami answered in ${Date.now() - started} ms`)
  })

  it.skipIf(!djangoHere)('Django refuses a Host outside ALLOWED_HOSTS', async () => {
    const { request } = await import('node:http')
    const url = new URL(ex.urls.django!)
    const status = await new Promise<number>((resolve, reject) => {
      request(
        { host: url.hostname, port: url.port, path: '/whoami', headers: { host: 'evil.example' } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
        .on('error', reject)
        .end()
    })
    expect(status).toBe(400)
  })
})

describe.skipIf(!djangoHere)('manage.py check --deploy', () => {
  /** The warnings README.md explains: TLS, HSTS and the HTTPS redirect belong to the proxy in front. */
  const EXPLAINED = new Set(['security.W004', 'security.W008'])
  const check = async (env: Record<string, string>) => {
    try {
      const { stdout, stderr } = await run(PYTHON, ['manage.py', 'check', '--deploy'], {
        cwd: DJANGO_DIR,
        env: { ...process.env, DATABASE_URL: 'sqlite::memory:', ...env },
        timeout: 60_000,
      })
      return `${stdout}${stderr}`
    } catch (error) {
      return `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`
    }
  }
  const ids = (output: string) => [...new Set(output.match(/security\.[WE]\d+/g) ?? [])].sort()

  it('is clean apart from the explained warnings with the deployment settings', async () => {
    const output = await check({
      SECRET_KEY: 'a-long-random-deployment-key-0123456789-abcdefghijklmnopqrstuvwxyz',
      SESSION_COOKIE_SECURE: 'true',
      TRUST_PROXY: 'true',
      ALLOWED_HOSTS: 'app.example.com',
    })
    const unexplained = ids(output).filter((id) => !EXPLAINED.has(id))
    expect(unexplained, output).toEqual([])
    expect(ids(output), output).not.toContain('security.W003') // CsrfViewMiddleware is on
  })

  it('flags what the local http defaults leave off (insecure cookie, dev key)', async () => {
    const found = ids(await check({}))
    expect(found).toContain('security.W012') // SESSION_COOKIE_SECURE off on http
    expect(found).toContain('security.W009') // the development SECRET_KEY
  })
})

// The edge example end to end: a real rest-sessions service on Redis, the shared-login Node apps on
// it, and the edge Worker in workerd reaching the service over fetch on loopback.
import { randomBytes } from 'node:crypto'
import { createServer, type RestSessionsServer } from '@sessionbridge/rest-sessions-server'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '../../shared-login/test/client.ts'
import { startTestExample, type TestExample } from '../../shared-login/test/harness.ts'
import { type RunningEdge, startEdge } from '../src/serve.ts'

/** The edge Worker's production bundle, gzipped (README: "Bundle size"). */
const BUNDLE_BUDGET_GZIP_BYTES = 30 * 1024
const DEMO = { username: 'demo', password: 'demo-password' }

describe.skipIf(!(await serviceAvailable('redis')))(
  'edge example (workerd + rest-sessions + shared-login)',
  () => {
    let service: RestSessionsServer
    let example: TestExample
    let edge: RunningEdge
    const app = `edge${randomBytes(4).toString('hex')}`

    beforeAll(async () => {
      const redis = new URL(SERVICE_URLS.redis)
      service = await createServer({
        redisHost: redis.hostname,
        redisPort: Number(redis.port || 6379),
        namespace: `sb-example-edge-${process.pid}-${randomBytes(4).toString('hex')}`,
        logLevel: 'none',
        wipeInterval: 0,
      })
      const sessionUrl = await service.listen({ port: 0, host: '127.0.0.1' })
      example = await startTestExample({
        SESSION_BACKEND: 'rest-sessions',
        SESSION_URL: sessionUrl,
        SESSION_APP: app,
      })
      edge = await startEdge({ sessionUrl, sessionApp: app, port: 0 })
    })
    afterAll(async () => {
      await edge?.stop()
      await example?.cleanup()
      await service?.close()
    })

    const url = (name: string) => example.nodeApps.find(([n]) => n === name)![1]

    it('logs in on Fastify, is logged in at the edge, logs out at the edge, is logged out everywhere', async () => {
      const browser = new Client()
      const login = await browser.login(url('Fastify'), DEMO.username, DEMO.password)
      expect(login.status).toBe(200)
      const cookie = browser.cookies.get('sessionid')
      expect(cookie).toMatch(/^[A-Za-z0-9]{64}$/)
      expect(await browser.json(`${edge.url}/whoami`)).toEqual({
        status: 200,
        body: { authenticated: true, id: login.body.id, at: 'edge' },
      })

      // One session, one counter: Fastify, the edge and Koa add to the same value.
      const count = async (base: string) =>
        (await browser.json<{ count: number }>(`${base}/counter`, { method: 'POST', json: {} })).body.count
      expect(await count(url('Fastify'))).toBe(1)
      expect(await count(edge.url)).toBe(2)
      expect(await count(url('Koa'))).toBe(3)
      expect(browser.cookies.get('sessionid'), 'the edge kept the same session').toBe(cookie)

      const logout = await browser.request(`${edge.url}/logout`, { method: 'POST' })
      expect(logout.status).toBe(204)
      expect(logout.headers.getSetCookie()[0]).toMatch(/^sessionid=; Max-Age=0/)
      expect(browser.cookies.has('sessionid')).toBe(false)

      const stale = new Client()
      stale.cookies.set('sessionid', cookie!)
      for (const [name, base] of [...example.nodeApps, ['Edge', edge.url] as const]) {
        const who = await stale.whoami(base)
        expect(who.body.authenticated, `${name} still sees the login`).toBe(false)
      }
    })

    it('the page at the edge shows the login; a fresh browser or a forged cookie is anonymous', async () => {
      const anonymous = await fetch(`${edge.url}/whoami`)
      expect(await anonymous.json()).toEqual({ authenticated: false, id: null, at: 'edge' })
      expect(anonymous.headers.getSetCookie()).toEqual([])

      const browser = new Client()
      const login = await browser.login(url('Hono'), DEMO.username, DEMO.password)
      const page = await (await browser.request(`${edge.url}/`)).text()
      expect(page).toContain(`logged in as user #${login.body.id}`)
      const forged = new Client()
      forged.cookies.set('sessionid', '<script>'.padEnd(64, 'x'))
      expect(await (await forged.request(`${edge.url}/`)).text()).toContain('not logged in')
    })

    it('runs as a Worker bundle without Node built-ins, within its size budget', () => {
      expect(edge.bundle.code).not.toMatch(/from ["']node:|require\(["']node:/)
      console.log(`edge Worker bundle: ${edge.bundle.bytes} B minified, ${edge.bundle.gzipBytes} B gzipped`)
      expect(edge.bundle.gzipBytes).toBeLessThanOrEqual(BUNDLE_BUDGET_GZIP_BYTES)
    })
  },
)

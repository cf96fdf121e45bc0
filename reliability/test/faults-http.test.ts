import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppUnderTest, buildApp, FRAMEWORKS, sessionCookie } from '../src/apps.ts'
import { createFaultProxy, type FaultProxy } from '../src/fault-proxy.ts'
import { eventually } from '../src/faults.ts'
import { relPrefix } from '../src/services.ts'

const available = await serviceAvailable('redis')
const TIMEOUT = 400
const BOUND = TIMEOUT + 1500
const quiet = { warn() {} }

describe.skipIf(!available)('a backend fault seen over HTTP (Redis behind a fault proxy)', () => {
  let proxy: FaultProxy
  let client: ReturnType<typeof createClient>
  let backend: ReturnType<typeof redisBackend>
  beforeAll(async () => {
    proxy = await createFaultProxy({ target: new URL(SERVICE_URLS.redis).host })
    client = createClient({
      url: `redis://${proxy.address}`,
      socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 500) },
    })
    client.on('error', () => {})
    await client.connect()
    backend = redisBackend({ client: nodeRedisAdapter(client), prefix: relPrefix('http'), logger: quiet })
  })
  afterAll(async () => {
    await proxy?.start()
    if (client?.isOpen) client.destroy()
    await proxy?.close()
  })

  describe.each(FRAMEWORKS)('%s', (framework) => {
    let failing: AppUnderTest
    let continuing: AppUnderTest
    beforeAll(async () => {
      failing = await buildApp(framework, {
        backend,
        timeout: TIMEOUT,
        onBackendError: 'fail',
        logger: quiet,
        afterRead: () => proxy.blackhole(), // the server hangs between the load and the save
      })
      continuing = await buildApp(framework, {
        backend,
        timeout: TIMEOUT,
        onBackendError: 'continue',
        logger: quiet,
      })
    })
    afterAll(async () => {
      await proxy.start() // also passes: a failed test leaves no fault behind for the next framework
      await failing?.close()
      await continuing?.close()
    })

    it('answers 503 (not 500) within the timeout, never overwrites, and recovers by itself', async () => {
      proxy.pass()
      const created = await failing.call({ method: 'POST', path: '/write/owner/alice' })
      const cookie = sessionCookie(created.setCookies)!
      const id = cookie.split('=')[1]!

      proxy.blackhole()
      let started = performance.now()
      const read = await failing.call({ path: '/read', cookie })
      expect(performance.now() - started).toBeLessThan(BOUND)
      expect(read.status).toBe(503)
      const write = await failing.call({ method: 'POST', path: '/write/owner/mallory', cookie })
      expect(write.status).toBe(503)

      // "continue": an empty read-only session, the cookie left alone, nothing written.
      started = performance.now()
      const degraded = await continuing.call({ method: 'POST', path: '/write/owner/mallory', cookie })
      expect(performance.now() - started).toBeLessThan(BOUND)
      expect(degraded.status).toBe(200)
      expect(degraded.setCookies).toEqual([])
      const emptyRead = await continuing.call({ path: '/read', cookie })
      expect(JSON.parse(emptyRead.body)).toEqual({})

      proxy.pass()
      await eventually(async () => (await failing.call({ path: '/read', cookie })).status === 200)
      expect(JSON.parse((await failing.call({ path: '/read', cookie })).body).owner).toBe('alice')
      expect((await backend.load(id))?.data.owner).toBe('alice')
    })

    it('a server that hangs after the load: the failed save answers 503 (not 500) and never empties the data', async () => {
      proxy.pass()
      const created = await failing.call({ method: 'POST', path: '/write/owner/alice' })
      const cookie = sessionCookie(created.setCookies)!
      const started = performance.now()
      const reply = await failing.call({ method: 'POST', path: '/read-then-write/owner/mallory', cookie })
      expect(performance.now() - started).toBeLessThan(BOUND)
      expect(reply.status).toBe(503)
      proxy.pass()
      await eventually(async () => (await failing.call({ path: '/read', cookie })).status === 200)
      // The held save may still land once the server resumes; a timed-out request never empties data.
      expect(['alice', 'mallory']).toContain((await backend.load(cookie.split('=')[1]!))?.data.owner)
    })

    it('a stopped server gives 503 within the timeout, then service resumes after restart', async () => {
      const created = await failing.call({ method: 'POST', path: '/write/n/1' })
      const cookie = sessionCookie(created.setCookies)!
      await proxy.stop()
      const started = performance.now()
      const reply = await failing.call({ path: '/read', cookie })
      expect(reply.status).toBe(503)
      expect(performance.now() - started).toBeLessThan(BOUND)
      await proxy.start()
      await eventually(async () => (await failing.call({ path: '/read', cookie })).status === 200)
      expect(JSON.parse((await failing.call({ path: '/read', cookie })).body).n).toBe('1')
    })
  })
})

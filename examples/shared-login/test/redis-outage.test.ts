/**
 * Issue 14.8: the example's Redis client has no offline queue, a bounded connect and a 1 s session
 * timeout. While Redis is stopped a request fails at once (503) instead of waiting; the write it
 * carried is never replayed when Redis returns; service resumes about a second after the return.
 * Redis is stopped and restarted through a TCP proxy (the shared server keeps running).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSessionManager, SessionBackendError } from '@sessionbridge/core'
import { SERVICE_URLS, serviceAvailable, uniqueName } from '@sessionbridge/test-services'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultProxy } from '../../../reliability/src/fault-proxy.ts'
import { loadConfig } from '../src/config.ts'
import { CACHE_SESSION_TIMEOUT_MS, type ExampleStack, openStack } from '../src/stack.ts'

const redisHere = await serviceAvailable('redis')

describe.skipIf(!redisHere)('the example on Redis during an outage', () => {
  const prefix = `${uniqueName('sbt_outage')}:`
  let dir: string
  let proxy: FaultProxy
  let stack: ExampleStack
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-redis-outage-'))
    proxy = await createFaultProxy({ target: new URL(SERVICE_URLS.redis).host })
    stack = await openStack(
      loadConfig({
        SESSION_BACKEND: 'redis',
        REDIS_URL: `redis://${proxy.address}`,
        KEY_PREFIX: prefix,
        DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}`,
        SECRET_KEY: 'redis-outage-test-secret-key-0123456789',
      }),
    )
  })
  afterAll(async () => {
    await stack?.close()
    await proxy?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('uses a 1 s session timeout', () => {
    expect(stack.sessionTimeout).toBe(CACHE_SESSION_TIMEOUT_MS)
    expect(CACHE_SESSION_TIMEOUT_MS).toBeLessThanOrEqual(1000)
  })

  it('fails fast while Redis is stopped, never replays the refused write, and recovers within ~1 s', async () => {
    const manager = createSessionManager({ backend: stack.backend, timeout: stack.sessionTimeout })
    const first = await manager.open({ cookie: null })
    first.set('_auth_user_id', '1')
    first.set('count', 1)
    const cookie = (await first.commit()).setCookie!.split(';')[0]!

    await proxy.stop()
    // Let the client see the connection go: the outage is known, reconnects are being refused.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const commitFails = async (session: Awaited<ReturnType<typeof manager.open>>) => {
      const started = performance.now()
      const failure = await session.commit().then(
        () => null,
        (error: unknown) => error,
      )
      expect(failure).toBeInstanceOf(SessionBackendError) // the frameworks answer 503
      return performance.now() - started
    }
    const during = await manager.open({ cookie })
    during.set('count', 99)
    const fresh = await manager.open({ cookie: null }) // a login during the outage: a create
    fresh.set('_auth_user_id', '2')
    const waits = [await commitFails(during), await commitFails(fresh)]
    // At once, not after the 1 s timeout: nothing waits in an offline queue.
    for (const waited of waits) expect(waited, 'a request waited during the outage').toBeLessThan(500)
    const failedAfter = Math.max(...waits)

    await proxy.start()
    const back = performance.now()
    let count: unknown
    for (;;) {
      try {
        count = await (await manager.open({ cookie })).get('count')
        break
      } catch (error) {
        expect(error).toBeInstanceOf(SessionBackendError)
        expect(performance.now() - back, 'no recovery after Redis returned').toBeLessThan(5000)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    const recoveredAfter = performance.now() - back
    // Give a queued command every chance to land: it must not.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await (await manager.open({ cookie })).get('count'), 'the write answered 503 landed later').toBe(1)
    expect(count).toBe(1)
    // The refused create left no record behind (one nobody holds a cookie for).
    const redis = createClient({ url: SERVICE_URLS.redis })
    await redis.connect()
    try {
      const keys = await redis.keys(`${prefix}sess:*`)
      expect(keys.filter((k) => !k.includes('user:')).length, keys.join(', ')).toBe(1)
    } finally {
      await redis.close()
    }
    console.log(
      `Redis outage: failed after ${failedAfter.toFixed(0)} ms, recovered ${recoveredAfter.toFixed(0)} ms after restart`,
    )
  })
})

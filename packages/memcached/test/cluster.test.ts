import { djangoIdFormat, SessionBackendError, SessionDataError } from '@sessionbridge/core'
import { testBackend } from '@sessionbridge/core/testing'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, memcachedBackend } from '../src/index.ts'
import { memcachedProcess, testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')
const quiet = { warn() {} }
const HOUR = 3_600_000
const record = (n: number) => ({
  data: { _auth_user_id: `u${n}`, n },
  expiresAt: Date.now() + HOUR,
  userId: `u${n}`,
})

describe.skipIf(!up)('memcached cluster of three spawned servers', () => {
  const procs = [11311, 11312, 11313].map(memcachedProcess)
  const addresses = procs.map((p) => p.address)
  const client = createMemcachedClient({ servers: addresses })
  const prefix = testPrefix('cluster')
  beforeAll(() => Promise.all(procs.map((p) => p.start())))
  afterAll(async () => {
    await client.close()
    await Promise.all(procs.map((p) => p.stop()))
  })

  testBackend({
    name: 'memcached (three-node cluster)',
    backend: () => memcachedBackend({ client, prefix, logger: quiet }),
    corrupt: async (_b, id) => {
      await client.set(prefix + id, '\u0000garbage', { exptime: 60 })
    },
    concurrentWriters: 50,
  })

  it('spreads sessions over every server, as the ring says', async () => {
    const perServer = addresses.map((address) => createMemcachedClient({ servers: [address] }))
    const counts = [0, 0, 0]
    const keys = Array.from({ length: 3000 }, (_, i) => `${prefix}spread:${i}`)
    await Promise.all(keys.map((key) => client.set(key, 'v', { exptime: 60 })))
    for (const key of keys) {
      const found = await Promise.all(perServer.map((c) => c.get(key)))
      expect(found.filter(Boolean)).toHaveLength(1) // on exactly one server
      const index = found.findIndex(Boolean)
      expect(addresses[index]).toBe(client.serverFor(key))
      counts[index]!++
    }
    for (const count of counts) expect(count / keys.length).toBeGreaterThan(0.2)
    await Promise.all(perServer.map((c) => c.close()))
  })

  it('maps the server refusing an oversized item (-I 1m) to SessionDataError; the connection stays usable', async () => {
    const loose = createMemcachedClient({ servers: [addresses[0]!], maxValueBytes: 8 * 1024 * 1024 })
    const error = await loose
      .set(`${prefix}huge`, 'x'.repeat(2 * 1024 * 1024), { exptime: 5 })
      .catch((e) => e)
    expect(error).toBeInstanceOf(SessionDataError)
    expect(String(error.message)).toMatch(/too large.*-I/)
    expect(await loose.set(`${prefix}after`, 'ok', { exptime: 5 })).toBe('stored')
    await loose.close()
  })
})

describe.skipIf(!up)('a server stopped mid-run', () => {
  const procs = [11314, 11315, 11316].map(memcachedProcess)
  const addresses = procs.map((p) => p.address)
  const victim = procs[2]!
  const prefix = testPrefix('failure')
  // A long command timeout: a refused connection must fail at once, not after waiting for it.
  const settings = {
    servers: addresses,
    timeout: 15_000,
    connectTimeout: 15_000,
    retryDelay: 200,
    maxRetryDelay: 400,
  }
  const client = createMemcachedClient({ ...settings, failover: true })
  const strict = createMemcachedClient({ ...settings, failover: false })
  const backend = memcachedBackend({ client, prefix, logger: quiet })
  const strictBackend = memcachedBackend({ client: strict, prefix, logger: quiet })
  beforeAll(() => Promise.all(procs.map((p) => p.start())))
  afterAll(async () => {
    await client.close()
    await strict.close()
    await Promise.all(procs.map((p) => p.stop()))
  })

  it('keeps the other servers sessions, fails fast for the dead one, fails over, and picks up its return', async () => {
    const ids = await Promise.all(
      Array.from({ length: 300 }, (_, i) => backend.create(djangoIdFormat.generate(), record(i))),
    )
    const onVictim = ids.filter((id) => client.serverFor(prefix + id) === victim.address) as string[]
    const elsewhere = ids.filter((id) => client.serverFor(prefix + id) !== victim.address) as string[]
    expect(onVictim.length).toBeGreaterThan(30)
    for (const id of onVictim.slice(0, 3)) expect(await strictBackend.load(id)).not.toBeNull() // warm strict pool

    await victim.stop()

    // Requests to the stopped server error (refused or reset), well before the 15 s timeout.
    const first = await Promise.allSettled(onVictim.slice(0, 20).map((id) => strictBackend.load(id)))
    for (const outcome of first) {
      expect(outcome.status).toBe('rejected')
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(SessionBackendError)
    }
    // Now marked dead: the strict client answers without the network, naming the reason.
    const dead = await strictBackend.load(onVictim[0]!).catch((e) => e)
    expect(String(dead?.message)).toMatch(/marked dead|ECONNREFUSED/)

    // Sessions on the other servers are all still there.
    const survivors = await Promise.all(elsewhere.map((id) => backend.load(id)))
    expect(survivors.every((r) => r !== null)).toBe(true)

    // The failover client routes the dead server's keys along the ring once it is marked dead.
    await Promise.allSettled(onVictim.slice(0, 5).map((id) => backend.load(id)))
    await Promise.allSettled(onVictim.slice(0, 5).map((id) => backend.load(id)))
    expect(client.serverFor(prefix + onVictim[0]!)).not.toBe(victim.address)
    expect(await backend.load(onVictim[0]!)).toBeNull() // its sessions lived on the dead server
    const moved = await backend.create(djangoIdFormat.generate(), record(1))
    expect(moved).toBeTypeOf('string')

    await victim.start()
    // After the retry delay a request probes the server again; poll until it is back.
    let back = false
    for (let i = 0; i < 100 && !back; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      await strict.ping()
      back =
        (await strict.ping())[victim.address] === true &&
        client.serverFor(prefix + onVictim[0]!) === victim.address
      if (!back) await backend.load(onVictim[0]!).catch(() => null)
    }
    expect(back).toBe(true)
    const fresh = await backend.create(djangoIdFormat.generate(), record(2))
    expect(await backend.load(fresh!)).not.toBeNull()
    expect(await strictBackend.load(onVictim[0]!)).toBeNull() // restarted empty, and reachable again
    const stillThere = await Promise.all(elsewhere.map((id) => backend.load(id)))
    expect(stillThere.every((r) => r !== null)).toBe(true)
  })
})

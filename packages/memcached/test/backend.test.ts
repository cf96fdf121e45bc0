import { Buffer } from 'node:buffer'
import { connect } from 'node:net'
import {
  createSessionManager,
  djangoIdFormat,
  SessionBackendError,
  type SessionCodec,
  SessionConflictError,
  SessionDataError,
} from '@sessionbridge/core'
import { isPlainObject } from '@sessionbridge/core/adapter'
import { testBackend } from '@sessionbridge/core/testing'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, memcachedBackend } from '../src/index.ts'
import { testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')
const servers = SERVICE_URLS.memcached.split(',')
const quiet = { warn() {} }
const HOUR = 3_600_000

describe.skipIf(!up)('memcachedBackend on the shared memcached', () => {
  const client = createMemcachedClient({ servers })
  const prefix = testPrefix('backend')
  const backend = memcachedBackend({ client, prefix, logger: quiet })
  afterAll(() => client.close())

  testBackend({
    name: 'memcached (one node)',
    backend: () => backend,
    corrupt: async (_b, id) => {
      await client.set(prefix + id, 'not a session \u0000\uFFFF', { exptime: 60 })
    },
    concurrentWriters: 50,
  })

  const record = (data: Record<string, unknown> = {}, ttl = HOUR) => ({
    data: { _auth_user_id: '7', ...data },
    expiresAt: Date.now() + ttl,
    userId: '7',
  })

  it('answers "no session" for ids that are not of the format, with no command sent', async () => {
    for (const id of ['abc\r\nflush_all', 'x y', '', '../../etc', 'A'.repeat(32), 'a'.repeat(300)]) {
      expect(await backend.load(id)).toBeNull()
      expect(await backend.save(id, { set: { a: 1 }, deleted: [] }, record())).toBe(false)
      expect(await backend.touch(id, Date.now() + HOUR)).toBe(false)
      await backend.destroy(id)
    }
  })

  it('never puts a cookie on the wire as protocol text (injection through the manager)', async () => {
    const canary = `${prefix}canary`
    await client.set(canary, 'still here', { exptime: 60 })
    const manager = createSessionManager({ backend })
    for (const cookie of [
      'sessionid=abc\r\nflush_all',
      'sessionid=abc%0D%0Aflush_all',
      `sessionid=${'a'.repeat(31)}%20`,
      'sessionid="abcdefghijklmnopqrstuvwxyz012345\r\nmd sbt"',
    ]) {
      const session = await manager.open({ cookie })
      expect(await session.get('anything')).toBeUndefined()
      await session.commit()
    }
    // A raw client refuses such keys too, before writing anything.
    await expect(client.get('abc\r\nflush_all')).rejects.toThrow(SessionDataError)
    await expect(client.set('a b', 'x', { exptime: 5 })).rejects.toThrow(SessionDataError)
    expect((await client.get(canary))?.value).toBe('still here')
  })

  it('refuses a session larger than the item size with a SessionDataError naming the limit', async () => {
    const small = memcachedBackend({
      client: createMemcachedClient({ servers, maxValueBytes: 10_000 }),
      prefix,
    })
    const id = djangoIdFormat.generate()
    await expect(small.create(id, record({ big: 'x'.repeat(20_000) }))).rejects.toThrow(
      /maxValueBytes \(10000 bytes\)/,
    )
    await expect(small.create(id, record({ big: 'x'.repeat(20_000) }))).rejects.toBeInstanceOf(
      SessionDataError,
    )
    await (small.client as { close(): Promise<void> }).close()
  })

  it('sends expiries over 30 days as absolute times and reads them back', async () => {
    const expiresAt = Date.now() + 40 * 86_400_000
    const id = await backend.create(djangoIdFormat.generate(), record({ long: true }, 40 * 86_400_000))
    const loaded = await backend.load(id!)
    expect(loaded?.data.long).toBe(true)
    // Three whole seconds of rounding can stack: the absolute exptime, memcached's clock (it ticks
    // once a second) and the TTL it answers; a CI run measured exactly 3,000 ms once. memcached also
    // turns an absolute time into a relative one by its own clock, which drifts from the wall clock
    // while it runs (4.5 s behind after 2 hours on a VM): that drift is the server's, not ours.
    const slack = 4000 + (await memcachedClockDrift(servers[0]!))
    expect(Math.abs(loaded!.expiresAt - expiresAt)).toBeLessThan(slack)
    expect(await backend.touch(id!, Date.now() + 35 * 86_400_000)).toBe(true)
    expect(Math.abs((await backend.load(id!))!.expiresAt - (Date.now() + 35 * 86_400_000))).toBeLessThan(
      slack,
    )
  })

  it('loads and touches in one round trip', async () => {
    const id = (await backend.create(djangoIdFormat.generate(), record({ a: 1 }, 2000)))!
    const target = Date.now() + HOUR
    const loaded = await backend.loadAndTouch(id, target)
    expect(loaded?.data.a).toBe(1)
    expect(loaded?.expiresAt).toBe(target)
    expect(Math.abs((await backend.load(id))!.expiresAt - target)).toBeLessThan(3000)
    expect(await backend.loadAndTouch(djangoIdFormat.generate(), target)).toBeNull()
    const sliding = memcachedBackend({ client, prefix, touchOnLoad: 7200 })
    await sliding.load(id)
    expect(Math.abs((await backend.load(id))!.expiresAt - (Date.now() + 7_200_000))).toBeLessThan(3000)
  })

  it('stores through a custom codec, and a payload it cannot decode is no session', async () => {
    const codec: SessionCodec = {
      name: 'b64-json',
      encode: async (data) => Buffer.from(JSON.stringify(data)).toString('base64'),
      decode: async (stored) => {
        const value: unknown = JSON.parse(Buffer.from(stored, 'base64').toString())
        return isPlainObject(value) ? value : null
      },
    }
    const coded = memcachedBackend({ client, prefix, codec, logger: quiet })
    const id = (await coded.create(djangoIdFormat.generate(), record({ cart: [1, 'é'] })))!
    expect((await coded.load(id))?.data).toEqual({ _auth_user_id: '7', cart: [1, 'é'] })
    // The default JSON codec reads the same item as undecodable (base64 is not JSON): no session.
    expect(await backend.load(id)).toBeNull()
    // A payload the custom codec rejects (its promise rejects) is no session either.
    const raw = (await client.get(prefix + id))!.value
    await client.set(prefix + id, `${raw.slice(0, raw.indexOf('\n') + 1)}%%%`, { exptime: 60 })
    await expect(coded.load(id)).resolves.toBeNull()
  })

  it('keeps the stored user id unless the change set touches the user key', async () => {
    const id = (await backend.create(djangoIdFormat.generate(), record()))!
    await backend.save(id, { set: { other: 1 }, deleted: [] }, { ...record(), userId: null })
    expect((await backend.load(id))?.userId).toBe('7')
    await backend.save(id, { set: {}, deleted: ['_auth_user_id'] }, { ...record(), userId: null })
    expect((await backend.load(id))?.userId).toBeNull()
  })

  it('gives up a save after casAttempts conflicts with a SessionConflictError (409), writing nothing', async () => {
    const id = (await backend.create(djangoIdFormat.generate(), record()))!
    const key = prefix + id
    // A client whose reads always return a stale CAS token: every write conflicts.
    const stale = {
      ...client,
      get: async (k: string) => {
        const item = await client.get(k)
        return item && { ...item, cas: '1' }
      },
      set: client.set,
      delete: client.delete,
      touch: client.touch,
      maxValueBytes: client.maxValueBytes,
    }
    const conflicted = memcachedBackend({ client: stale, prefix, casAttempts: 3 })
    const error = await conflicted.save(id, { set: { x: 1 }, deleted: [] }, record()).catch((e) => e)
    expect(error).toBeInstanceOf(SessionConflictError)
    expect(error.status).toBe(409)
    expect(String(error.message)).toMatch(/after 3 attempts/)
    expect((await client.get(key))?.value).not.toContain('"x"')
  })

  it('wraps a brought client that throws into SessionBackendError with the cause', async () => {
    const cause = new Error('boom')
    const broken = memcachedBackend({
      client: {
        get: () => Promise.reject(cause),
        set: () => Promise.reject(cause),
        delete: () => Promise.reject(cause),
        touch: () => Promise.reject(cause),
      },
    })
    const error = await broken.load(djangoIdFormat.generate()).catch((e) => e)
    expect(error).toBeInstanceOf(SessionBackendError)
    expect(error.cause).toBe(cause)
    expect(error.operation).toBe('load')
    // Whatever fails inside a load rejects its promise, a clock that throws included.
    const clockless = memcachedBackend({
      client: broken.client,
      touchOnLoad: 60, // the load works out the touch's expiry from the clock
      now: () => {
        throw cause
      },
    })
    let pending: Promise<unknown> | undefined
    expect(() => {
      pending = clockless.load(djangoIdFormat.generate())
    }).not.toThrow()
    expect(await pending!.catch((e) => e)).toMatchObject({ operation: 'load', cause })
    // A save maps its own errors too: through the one conditional write, and through the merge.
    for (const version of ['7', undefined]) {
      const saved = { ...record({ a: 1 }), ...(version ? { version } : {}) }
      const saveError = await broken
        .save(djangoIdFormat.generate(), { set: { a: 1 }, deleted: [] }, saved)
        .catch((e) => e)
      expect(saveError).toBeInstanceOf(SessionBackendError)
      expect(saveError.cause).toBe(cause)
      expect(saveError.operation).toBe('save')
    }
  })

  it('counts a session of multi-byte text in bytes: under the limit in characters, over it in bytes', async () => {
    const small = memcachedBackend({
      client: createMemcachedClient({ servers, maxValueBytes: 10_000 }),
      prefix,
    })
    // 4,000 characters, 12,000 bytes of UTF-8: refused by the backend itself, not only by the client.
    const error = await small
      .create(djangoIdFormat.generate(), record({ big: '€'.repeat(4_000) }))
      .catch((e) => e)
    expect(error).toBeInstanceOf(SessionDataError)
    expect(String(error.message)).toMatch(
      /^\[sessionbridge\/memcached\] session of \d+ bytes exceeds maxValueBytes \(10000 bytes\)/,
    )
    // 3,000 characters, 9,000 bytes: within the limit in bytes, stored.
    expect(await small.create(djangoIdFormat.generate(), record({ big: '€'.repeat(3_000) }))).toBeTypeOf(
      'string',
    )
    await (small.client as { close(): Promise<void> }).close()
  })

  it('a save of a session over the item size is a SessionDataError, whichever way it writes', async () => {
    const small = memcachedBackend({
      client: createMemcachedClient({ servers, maxValueBytes: 10_000 }),
      prefix,
    })
    const id = (await small.create(djangoIdFormat.generate(), record({ n: 1 })))!
    const loaded = (await small.load(id))!
    const big = { set: { big: 'x'.repeat(20_000) }, deleted: [] }
    for (const saved of [loaded, { ...loaded, version: undefined }]) {
      const error = await small
        .save(id, big, { ...saved, data: { ...loaded.data, ...big.set } })
        .catch((e) => e)
      expect(error).toBeInstanceOf(SessionDataError)
      expect(String(error.message)).toMatch(/maxValueBytes \(10000 bytes\)/)
    }
    expect((await small.load(id))?.data).toEqual(loaded.data)
    await (small.client as { close(): Promise<void> }).close()
  })

  it('fails at startup on bad configuration', () => {
    expect(() => memcachedBackend({})).toThrow(/missing option "servers"/)
    expect(() => memcachedBackend({ servers, client })).toThrow(/option "client"/)
    expect(() => memcachedBackend({ client, prefix: 'has space' })).toThrow(/option "prefix"/)
    expect(() => memcachedBackend({ client, prefix: 'p'.repeat(240) })).toThrow(/no room for ids/)
    expect(() => memcachedBackend({ client, casAttempts: 0 })).toThrow(/option "casAttempts"/)
    expect(() => createMemcachedClient({ servers: [] })).toThrow(/option "servers"/)
    expect(() => createMemcachedClient({ servers: ['a:1', 'a:1'] })).toThrow(/twice/)
    expect(() => createMemcachedClient({ servers, timeout: -1 })).toThrow(/option "timeout"/)
  })
})

/** How far the server's clock (`stats` time) is from ours, ms, rounded up to its 1 s tick. */
async function memcachedClockDrift(server: string): Promise<number> {
  const [host, port] = server.split(':')
  const reply = await new Promise<string>((resolve, reject) => {
    let text = ''
    const socket = connect(Number(port ?? 11211), host ?? '127.0.0.1', () => socket.write('stats\r\n'))
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
      if (text.includes('END\r\n')) {
        socket.end()
        resolve(text)
      }
    })
    socket.on('error', reject)
  })
  const serverSeconds = Number(/STAT time (\d+)/.exec(reply)?.[1])
  return Math.abs(Date.now() - serverSeconds * 1000) + 1000
}

import {
  alnum64IdFormat,
  createSessionManager,
  jsonCodec,
  type SessionBackend,
  SessionBackendError,
  type SessionCodec,
  SessionConfigError,
  type SessionRecord,
  SessionTimeoutError,
} from '@sessionbridge/core'
import { isPlainObject } from '@sessionbridge/core/adapter'
import { testBackend } from '@sessionbridge/core/testing'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type RedisCommands, redisBackend } from '../src/index.ts'
import { redisContext } from '../src/io.ts'
import { luaScript } from '../src/scripts.ts'
import { ADAPTERS, closedPortUrl, cuttableProxy, deleteKeys, sleep, testPrefix } from './helpers.ts'

const up = await serviceAvailable('redis')
const HOUR = 3_600_000
const cookieOf = (setCookie: string | null) => setCookie?.split(';')[0] ?? ''
const record = (
  data: Record<string, unknown>,
  ttlMs = HOUR,
  userId: string | null = null,
): SessionRecord => ({
  data: userId === null ? data : { _auth_user_id: userId, ...data },
  expiresAt: Date.now() + ttlMs,
  userId,
})

for (const adapter of ADAPTERS) {
  describe.skipIf(!up)(`redisBackend over ${adapter.name}`, () => {
    const prefix = testPrefix(`backend-${adapter.name}`)
    let commands: RedisCommands
    let close: () => Promise<void>
    let backend: SessionBackend
    beforeAll(async () => {
      ;({ commands, close } = await adapter.open())
      backend = redisBackend({ client: commands, prefix })
    })
    afterAll(async () => {
      await deleteKeys(commands, prefix)
      await close()
    })

    testBackend({
      name: `redis (${adapter.name})`,
      backend: () => backend,
      corrupt: async (_b, id) => {
        await commands.send(`${prefix}${id}`, ['HSET', `${prefix}${id}`, 'd:a', '{not json'])
      },
      expiryResolutionMs: 200,
      concurrentWriters: 50,
    })

    it('keeps all 50 keys when 50 requests write different keys at once (session manager)', async () => {
      const manager = createSessionManager({ backend })
      const first = await manager.open({ cookie: null })
      first.set('base', true)
      first.set('drop', 'me')
      const cookie = cookieOf((await first.commit()).setCookie)
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const session = await manager.open({ cookie })
          await session.get('base')
          session.set(`k${i}`, i)
          if (i === 7) session.delete('drop')
          return (await session.commit()).reason
        }),
      )
      expect(new Set(results)).toEqual(new Set(['save']))
      const data = await (await manager.open({ cookie })).all()
      for (let i = 0; i < 50; i++) expect(data[`k${i}`]).toBe(i)
      expect(data.base).toBe(true)
      expect(data).not.toHaveProperty('drop')
    })

    describe('per-user index', () => {
      const user = () => `u-${Math.random().toString(36).slice(2)} {tag}`
      const indexKey = (uid: string) => `${prefix}user:{${uid}}`
      const zcard = async (uid: string) =>
        Number(await commands.send(indexKey(uid), ['ZCARD', indexKey(uid)]))

      it('forgets expired sessions, on read and in Redis', async () => {
        const uid = user()
        const short1 = (await backend.create(backend.idFormat.generate(), record({ n: 1 }, 300, uid)))!
        const short2 = (await backend.create(backend.idFormat.generate(), record({ n: 2 }, 300, uid)))!
        const long = (await backend.create(backend.idFormat.generate(), record({ n: 3 }, HOUR, uid)))!
        expect((await backend.listUser!(uid)).sort()).toEqual([short1, short2, long].sort())
        const ttl = Number(await commands.send(indexKey(uid), ['PTTL', indexKey(uid)]))
        expect(ttl).toBeGreaterThan(HOUR - 60_000) // the index lives as long as its last session
        await sleep(500)
        expect(await backend.listUser!(uid)).toEqual([long])
        expect(await zcard(uid)).toBe(1)
        expect(await backend.destroyUser!(uid)).toBe(1)
        expect(await backend.load(long)).toBeNull()
        expect(await zcard(uid)).toBe(0)
      })

      it('lets the index key expire with the last session', async () => {
        const uid = user()
        await backend.create(backend.idFormat.generate(), record({}, 300, uid))
        expect(await zcard(uid)).toBe(1)
        await sleep(500)
        expect(Number(await commands.send(indexKey(uid), ['EXISTS', indexKey(uid)]))).toBe(0)
      })

      it('follows touch: a touched session outlives its first expiry in the index too', async () => {
        const uid = user()
        const id = (await backend.create(backend.idFormat.generate(), record({}, 300, uid)))!
        expect(await backend.touch(id, Date.now() + HOUR)).toBe(true)
        await sleep(500)
        expect(await backend.listUser!(uid)).toEqual([id])
      })

      it('moves a session between users when a save changes its user, and drops it on destroy', async () => {
        const alice = user()
        const bob = user()
        const rec = record({ a: 1 }, HOUR, alice)
        const id = (await backend.create(backend.idFormat.generate(), rec))!
        const changed = { ...rec, data: { ...rec.data, _auth_user_id: bob }, userId: bob }
        expect(await backend.save(id, { set: { _auth_user_id: bob }, deleted: [] }, changed)).toBe(true)
        expect(await backend.listUser!(alice)).toEqual([])
        expect(await backend.listUser!(bob)).toEqual([id])
        expect(await backend.destroyUser!(alice)).toBe(0)
        expect(await backend.load(id)).not.toBeNull()
        await backend.destroy(id)
        expect(await zcard(bob)).toBe(0)
      })

      it('ignores and removes strays: unknown ids and sessions of someone else', async () => {
        const uid = user()
        const other = user()
        const mine = (await backend.create(backend.idFormat.generate(), record({}, HOUR, uid)))!
        const theirs = (await backend.create(backend.idFormat.generate(), record({}, HOUR, other)))!
        const ghost = backend.idFormat.generate()
        const far = String(Date.now() + HOUR)
        await commands.send(indexKey(uid), ['ZADD', indexKey(uid), far, ghost, far, theirs])
        expect(await backend.listUser!(uid)).toEqual([mine])
        expect(await zcard(uid)).toBe(1)
        expect(await backend.destroyUser!(uid)).toBe(1)
        expect(await backend.load(theirs)).not.toBeNull()
      })

      it('keeps the index score at or above the expiry, while updating it only when needed', async () => {
        const sent: string[] = []
        const counting: RedisCommands = {
          send: (key, args) => {
            sent.push(
              args[0] === 'EVALSHA' || args[0] === 'EVAL'
                ? `script:${key.includes('user:{') ? 'index' : 'session'}`
                : args[0]!,
            )
            return commands.send(key, args)
          },
        }
        const b = redisBackend({ client: counting, prefix })
        const uid = user()
        const rec = record({ n: 0 }, HOUR, uid)
        const id = (await b.create(b.idFormat.generate(), rec))!
        const scoreOf = async () => Number(await commands.send(indexKey(uid), ['ZSCORE', indexKey(uid), id]))
        const expiryOf = async () =>
          Number(await commands.send(`${prefix}${id}`, ['PEXPIRETIME', `${prefix}${id}`]))
        // Saves that move the expiry a little: the slack absorbs them, one script each.
        for (let n = 1; n <= 5; n++) {
          sent.length = 0
          const expiresAt = Date.now() + HOUR + n * 1000
          expect(await b.save(id, { set: { n }, deleted: [] }, { ...rec, expiresAt })).toBe(true)
          expect(sent).toEqual(['script:session'])
          expect(await scoreOf()).toBeGreaterThanOrEqual(await expiryOf())
        }
        // A save or touch past the recorded score updates the index.
        for (const step of [
          () => b.save(id, { set: { n: 9 }, deleted: [] }, { ...rec, expiresAt: Date.now() + 3 * HOUR }),
          () => b.touch(id, Date.now() + 6 * HOUR),
          () => b.touch(id, Date.now() + 40 * 24 * HOUR), // past 2^31 ms ahead: no 32-bit arithmetic
        ]) {
          sent.length = 0
          expect(await step()).toBe(true)
          expect(sent).toContain('script:index')
          expect(await scoreOf()).toBeGreaterThanOrEqual(await expiryOf())
        }
        // Shortening the expiry never lowers the score below it.
        expect(await b.touch(id, Date.now() + 1000)).toBe(true)
        expect(await scoreOf()).toBeGreaterThanOrEqual(await expiryOf())
      })

      it('a save that loses the race to destroy leaves nothing behind in the index', async () => {
        const uid = user()
        const rec = record({ a: 1 }, HOUR, uid)
        const id = (await backend.create(backend.idFormat.generate(), rec))!
        await backend.destroy(id)
        expect(await backend.save(id, { set: { a: 2 }, deleted: [] }, rec)).toBe(false)
        expect(await zcard(uid)).toBe(0)
        expect(await backend.load(id)).toBeNull()
      })

      it('is absent when userIndex is false, and anonymous sessions are never indexed', async () => {
        const plain = redisBackend({ client: commands, prefix, userIndex: false })
        expect(plain.capabilities.destroyUser).toBe(false)
        expect(plain.destroyUser).toBeUndefined()
        const id = (await backend.create(backend.idFormat.generate(), record({ a: 1 })))!
        expect((await backend.load(id))?.userId).toBeNull()
        await plain.destroy(id)
        expect(await backend.load(id)).toBeNull()
      })
    })

    describe('malformed stored data', () => {
      const warnings = () => {
        const warn = vi.fn()
        return { warn, backend: redisBackend({ client: commands, prefix, logger: { warn } }) }
      }

      it('a key of another type is no session, with a warning; save and touch leave it alone', async () => {
        const { warn, backend: b } = warnings()
        const id = b.idFormat.generate()
        const key = `${prefix}${id}`
        await commands.send(key, ['SET', key, 'not a hash', 'PX', '60000'])
        expect(await b.load(id)).toBeNull()
        expect(warn).toHaveBeenCalledWith(expect.stringMatching(/not a hash/))
        expect(await b.save(id, { set: { a: 1 }, deleted: [] }, record({ a: 1 }))).toBe(false)
        expect(await b.touch(id, Date.now() + HOUR)).toBe(false)
        expect(await commands.send(key, ['GET', key])).toBe('not a hash')
        await b.destroy(id)
        expect(await commands.send(key, ['EXISTS', key])).toBe(0)
      })

      it('a hash without its bookkeeping, or with a foreign value, is no session', async () => {
        const { warn, backend: b } = warnings()
        const bare = b.idFormat.generate()
        await commands.send(`${prefix}${bare}`, ['HSET', `${prefix}${bare}`, 'd:a', '{"a":1}'])
        await commands.send(`${prefix}${bare}`, ['PEXPIRE', `${prefix}${bare}`, '60000'])
        expect(await b.load(bare)).toBeNull()
        const foreign = (await b.create(b.idFormat.generate(), record({ a: 1 })))!
        await commands.send(`${prefix}${foreign}`, ['HSET', `${prefix}${foreign}`, 'd:a', '[1,2]'])
        expect(await b.load(foreign)).toBeNull()
        expect(warn).toHaveBeenCalledTimes(2)
      })

      it('ids that are not of the id format never reach Redis', async () => {
        let sent = 0
        const counting: RedisCommands = {
          send: (key, args) => {
            sent++
            return commands.send(key, args)
          },
        }
        const b = redisBackend({ client: counting, prefix })
        for (const id of ['', 'short', '*', `${'a'.repeat(31)}\n`, 'A'.repeat(32), 'a'.repeat(10_000)]) {
          expect(await b.load(id)).toBeNull()
          expect(await b.save(id, { set: {}, deleted: [] }, record({}))).toBe(false)
          expect(await b.touch(id, Date.now() + HOUR)).toBe(false)
          await b.destroy(id)
          expect(await b.create(id, record({}))).toBeNull()
        }
        expect(sent).toBe(0)
      })
    })

    describe('when Redis is down or goes away', () => {
      const every = (b: SessionBackend) => {
        const id = b.idFormat.generate()
        return [
          () => b.load(id),
          () => b.create(id, record({ a: 1 }, HOUR, 'someone')),
          () => b.save(id, { set: { a: 1 }, deleted: [] }, record({ a: 1 })),
          () => b.touch(id, Date.now() + HOUR),
          () => b.destroy(id),
          () => b.listUser!('someone'),
          () => b.destroyUser!('someone'),
        ]
      }
      const expectBackendError = async (call: () => Promise<unknown>) => {
        const error = await call().then(
          () => null,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(SessionBackendError)
        expect((error as SessionBackendError).cause).toBeDefined()
        expect((error as SessionBackendError).status).toBe(503)
      }

      it('every operation throws SessionBackendError (with cause) on a connection that was cut', async () => {
        const proxy = await cuttableProxy()
        const opened = await adapter.open(proxy.url)
        try {
          const b = redisBackend({ client: opened.commands, prefix })
          const id = (await b.create(b.idFormat.generate(), record({ a: 1 })))!
          expect((await b.load(id))?.data.a).toBe(1)
          await proxy.cut()
          for (const call of every(b)) await expectBackendError(call)
        } finally {
          await opened.close()
        }
      })

      it('a client that never connected fails every operation the same way', async () => {
        const url = await closedPortUrl()
        const opened = await adapter.open(url).catch(() => null)
        expect(opened, 'connecting to a closed port should fail').toBeNull()
        // A client object whose server is gone: proxy opened, then cut before any command.
        const proxy = await cuttableProxy()
        const client = await adapter.open(proxy.url)
        await proxy.cut()
        try {
          for (const call of every(redisBackend({ client: client.commands, prefix })))
            await expectBackendError(call)
        } finally {
          await client.close()
        }
      })

      it('a server that stops answering yields a bounded SessionTimeoutError through the manager', async () => {
        const proxy = await cuttableProxy()
        const opened = await adapter.open(proxy.url)
        try {
          const b = redisBackend({ client: opened.commands, prefix })
          const manager = createSessionManager({ backend: b, timeout: 300 })
          const first = await manager.open({ cookie: null })
          first.set('a', 1)
          const cookie = cookieOf((await first.commit()).setCookie)
          proxy.stall()
          const session = await manager.open({ cookie })
          await expect(session.get('a')).rejects.toBeInstanceOf(SessionTimeoutError)
        } finally {
          await opened.close()
          await proxy.cut()
        }
      })
    })

    it('stores each value through the codec and takes the id format from it', async () => {
      const idFormat = alnum64IdFormat
      const codec: SessionCodec = {
        name: 'b64-json',
        idFormat,
        encode: async (data) => Buffer.from(JSON.stringify(data)).toString('base64'),
        decode: async (stored) => {
          const value: unknown = JSON.parse(Buffer.from(stored, 'base64').toString())
          return isPlainObject(value) ? value : null
        },
      }
      const b = redisBackend({ client: commands, prefix, codec })
      expect(b.idFormat).toBe(idFormat)
      const rec = record({ cart: [1, 'é'], n: 1 }, HOUR, 'codec-user')
      const id = (await b.create(idFormat.generate(), rec))!
      expect(id).toHaveLength(64)
      const raw = await commands.send(`${prefix}${id}`, ['HGET', `${prefix}${id}`, 'd:cart'])
      expect(raw).toBe(Buffer.from('{"cart":[1,"é"]}').toString('base64'))
      expect(await b.save(id, { set: { n: 2 }, deleted: ['cart'] }, rec)).toBe(true)
      expect((await b.load(id))?.data).toEqual({ _auth_user_id: 'codec-user', n: 2 })
      // A value the codec cannot decode (its promise rejects) makes the whole record no session.
      await commands.send(`${prefix}${id}`, ['HSET', `${prefix}${id}`, 'd:n', 'not base64 json'])
      expect(await b.load(id)).toBeNull()
      await b.destroy(id)
    })

    it('falls back to EVAL when Redis does not know a script (NOSCRIPT), then uses EVALSHA', async () => {
      const sent: string[] = []
      const counting: RedisCommands = {
        send: (key, args) => {
          sent.push(args[0]!)
          return commands.send(key, args)
        },
      }
      const fresh = luaScript(`return '${testPrefix('script')}'`) // a source Redis has never seen
      expect(await fresh.run(counting, `${prefix}x`, [])).toMatch(/^sbt:redis:/)
      expect(await fresh.run(counting, `${prefix}x`, [])).toMatch(/^sbt:redis:/)
      expect(sent).toEqual(['EVALSHA', 'EVAL', 'EVALSHA'])
    })

    // A load and a save catch their script's failure themselves (`sendScript`, `scriptFailed`).
    it('a load and a save run their script again by source after NOSCRIPT, and type other failures', async () => {
      const sent: string[] = []
      let failure: 'none' | 'noscript' | 'throw' | 'reject' = 'none'
      const faulty: RedisCommands = {
        send: (key, args) => {
          sent.push(args[0]!)
          if (args[0] === 'EVALSHA' && failure === 'noscript') {
            failure = 'none'
            return Promise.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'))
          }
          if (args[0] === 'EVALSHA' && failure === 'throw') throw new Error('client closed')
          if (args[0] === 'EVALSHA' && failure === 'reject') return Promise.reject(new Error('ERR something'))
          return commands.send(key, args)
        },
      }
      const b = redisBackend({ client: faulty, prefix })
      const id = b.idFormat.generate()
      await b.create(id, { data: { n: 1 }, expiresAt: Date.now() + 60_000, userId: null })
      const record = { data: { n: 2 }, expiresAt: Date.now() + 60_000, userId: null }
      for (const run of [() => b.load(id), () => b.save(id, { set: { n: 2 }, deleted: [] }, record)]) {
        sent.length = 0
        failure = 'noscript'
        expect(await run()).toBeTruthy()
        expect(sent).toEqual(['EVALSHA', 'EVAL'])
      }
      expect((await b.load(id))?.data).toEqual({ n: 2 })
      for (const operation of ['load', 'save'] as const) {
        for (failure of ['throw', 'reject'] as const) {
          const call = operation === 'load' ? b.load(id) : b.save(id, { set: { n: 3 }, deleted: [] }, record)
          const error = await call.catch((e: unknown) => e)
          expect(error).toBeInstanceOf(SessionBackendError)
          expect((error as SessionBackendError).message).toContain(operation)
          expect((error as Error).cause).toBeInstanceOf(Error)
        }
      }
      failure = 'none'
      await b.destroy(id)
    })

    it("runs the backend's scripts the same way, and wraps their other failures naming the operation", async () => {
      const sent: string[] = []
      let failure: 'none' | 'throw' | 'reject' = 'none'
      const counting: RedisCommands = {
        send: (key, args) => {
          sent.push(args[0]!)
          if (failure === 'throw') throw new Error('client closed')
          if (failure === 'reject') return Promise.reject(new Error('ERR something'))
          return commands.send(key, args)
        },
      }
      const ctx = redisContext({
        commands: counting,
        prefix,
        codec: jsonCodec,
        userIndex: false,
        logger: console,
        now: Date.now,
      })
      const fresh = luaScript(`return '${testPrefix('ctx-script')}'`)
      expect(await ctx.script('probe', fresh, `${prefix}x`, [])).toMatch(/^sbt:redis:/)
      expect(await ctx.script('probe', fresh, `${prefix}x`, [])).toMatch(/^sbt:redis:/)
      expect(sent).toEqual(['EVALSHA', 'EVAL', 'EVALSHA'])
      for (failure of ['throw', 'reject'] as const) {
        const error = await ctx.script('probe', fresh, `${prefix}x`, []).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(SessionBackendError)
        expect((error as SessionBackendError).message).toContain('probe')
        expect((error as Error).cause).toBeInstanceOf(Error)
      }
    })
  })
}

describe('redisBackend configuration', () => {
  it('fails at startup, naming the option', () => {
    expect(() => redisBackend({} as never)).toThrow(SessionConfigError)
    expect(() => redisBackend({} as never)).toThrow(/\[sessionbridge\/redis\] missing option "client"/)
    expect(() => redisBackend({ client: { sendCommand() {} } } as never)).toThrow(/nodeRedisAdapter/)
    const client: RedisCommands = { send: async () => null }
    expect(() => redisBackend({ client, prefix: 5 as never })).toThrow(/option "prefix"/)
    expect(() => redisBackend({ client, codec: {} as never })).toThrow(/option "codec"/)
  })
})

import { jsonCodec, type SessionBackend, SessionBackendError } from '@sessionbridge/core'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashCodec } from '../src/hash.ts'
import { type RedisCommands, redisBackend } from '../src/index.ts'
import { redisContext } from '../src/io.ts'
import { ADAPTERS, deleteKeys, testPrefix } from './helpers.ts'

const up = await serviceAvailable('redis')
const HOUR = 3_600_000
const quiet = { warn: () => {} }

// Data fields as a writer might have left them: this backend's own form, and every way of
// departing from it that the LOAD script must notice (it then answers the hash whole).
const FIELDS: Record<string, string>[] = [
  { 'd:count': '{"count":0}', 'd:_sb_created': '{"_sb_created":1796510312}' },
  {},
  { 'd:n': '{"n":-12}', 'd:big': '{"big":123456789012345678901234567890}', 'd:f': '{"f":1.5e3}' },
  { 'd:s': '{"s":"zoë \\"q\\" \\\\ \\u2028 😀"}', 'd:o': '{"o":{"a":[1,null,{"b":true}]}}' },
  { 'd:__proto__': '{"__proto__":{"isAdmin":true}}' },
  { 'd:zoë': '{"zoë":1}', 'd:a b': '{"a b":[]}' },
  { 'd:we"ird': '{"we\\"ird":1}' }, // the key needs an escape
  { 'd:a\\b': '{"a\\b":1}' }, // the same text, read as JSON, is another key (a backspace)
  { 'd:a': '{"a":1,"b":2}' }, // a second key
  { 'd:a': '{"a":1,"a":2}' }, // the key twice
  { 'd:a': '{"a" : 1}' }, // a space before the colon
  { 'd:a': '{ "a":1}' },
  { 'd:a': '{"a":01}' }, // not JSON
  { 'd:a': '{"a":1', 'd:b': '{"b":2}' },
  { 'd:a': '{"a":}' },
  { 'd:a': '{"a":1}}' },
  { 'd:a': '[1,2]' },
  { 'd:a': '{"a":NaN}' }, // cjson reads it, JSON does not
  { 'd:a': '{"a":"x"}', 'd:b': '{"a":"y"}' }, // a value under another key's field
  { 'd:a': '{"a":1}', 'm:turn': 'token 1 d:a', 'm:line:d:a': 'token 2', 'x:other': 'kept out' },
  { 'd:a': '{"a":1}', 'd:big': `{"big":"${'x'.repeat(20_000)}"}` }, // too large to join
]
const META: Record<string, string>[] = [
  { 'm:uid': '-' },
  { 'm:uid': '+42' },
  { 'm:uid': '+al"ice\n\\ zoë' },
  { 'm:uid': 'nobody' }, // not a marker
  {}, // no user field
  { 'm:uid': '-', 'm:exp': '12ab' },
  { 'm:uid': '-', 'm:exp': '' },
]

for (const adapter of ADAPTERS) {
  describe.skipIf(!up)(
    `load over ${adapter.name}: one joined reply, the same answer as the hash walked`,
    () => {
      const prefix = testPrefix(`load-${adapter.name}`)
      let commands: RedisCommands
      let close: () => Promise<void>
      let backend: SessionBackend
      const replies: unknown[] = []
      const walk = hashCodec(
        redisContext({
          commands: {} as never,
          prefix,
          codec: jsonCodec,
          userIndex: false,
          logger: quiet,
          now: Date.now,
        }),
      )
      beforeAll(async () => {
        ;({ commands, close } = await adapter.open())
        const recording: RedisCommands = {
          send: async (key, args) => {
            const reply = await commands.send(key, args)
            replies.push(reply)
            return reply
          },
        }
        backend = redisBackend({ client: recording, prefix, logger: quiet })
      })
      afterAll(async () => {
        await deleteKeys(commands, prefix)
        await close()
      })

      const write = async (fields: Record<string, string>) => {
        const id = backend.idFormat.generate()
        const key = `${prefix}${id}`
        await commands.send(key, ['HSET', key, ...Object.entries(fields).flat()])
        await commands.send(key, ['PEXPIRE', key, String(HOUR)])
        const reference = walk.decodeHash(id, await commands.send(key, ['HGETALL', key]), false)
        replies.length = 0
        return { id, reference }
      }

      it('answers every stored form as the field-by-field walk does', async () => {
        const exp = { 'm:exp': String(Date.now() + HOUR) }
        for (const data of FIELDS) {
          for (const meta of META) {
            const { id, reference } = await write({ ...exp, ...meta, ...data })
            const loaded = await backend.load(id)
            const expected =
              reference && !(reference instanceof Promise)
                ? { data: { ...reference.data }, expiresAt: reference.expiresAt, userId: reference.userId }
                : null
            expect(loaded && { ...loaded, data: { ...loaded.data } }, JSON.stringify({ meta, data })).toEqual(
              expected,
            )
            if (loaded) expect(Object.getPrototypeOf(loaded.data)).not.toBe(Object.prototype)
          }
        }
      })

      it("reads this backend's own writes in one round trip, as one text", async () => {
        const id = (await backend.create(backend.idFormat.generate(), {
          data: { count: 1, name: 'zoë "q"', nested: { a: [1, { b: null }] }, ['__proto__']: { x: 1 } },
          expiresAt: Date.now() + HOUR,
          userId: null,
        }))!
        replies.length = 0
        const loaded = await backend.load(id)
        expect(replies).toHaveLength(1)
        expect(typeof replies[0]).toBe('string')
        // JSON.parse keeps `__proto__` as an own key, as the loaded data must.
        const expected = JSON.parse(
          '{"count":1,"name":"zoë \\"q\\"","nested":{"a":[1,{"b":null}]},"__proto__":{"x":1}}',
        )
        expect({ ...loaded?.data }).toEqual(expected)
        expect(Object.getPrototypeOf(loaded?.data)).not.toBe(Object.prototype)
      })

      it('save writes each key under its own field, named by the value or sent beside it', async () => {
        const set: Record<string, unknown> = {
          count: 2,
          'zoë 😀': 'x',
          'we"ird': 1,
          'back\\slash': 2,
          'new\nline': 3,
          '': 'empty key',
          ['__proto__']: { isAdmin: true },
          fn: () => 1, // JSON cannot hold it: stored as {}, read back as no key
          gone: undefined,
        }
        const id = (await backend.create(backend.idFormat.generate(), {
          data: { old: 1, kept: 2 },
          expiresAt: Date.now() + HOUR,
          userId: null,
        }))!
        const expiresAt = Date.now() + 2 * HOUR
        expect(await backend.save(id, { set, deleted: ['old'] }, { data: {}, expiresAt, userId: '7' })).toBe(
          true,
        )
        const key = `${prefix}${id}`
        const flat = (await commands.send(key, ['HGETALL', key])) as string[]
        const stored = new Map<string, string>()
        for (let i = 0; i < flat.length; i += 2) stored.set(flat[i]!, flat[i + 1]!)
        for (const [k, v] of Object.entries(set)) {
          if (v === undefined) expect(stored.has(`d:${k}`)).toBe(false)
          else
            expect(stored.get(`d:${k}`), k).toBe(typeof v === 'function' ? '{}' : JSON.stringify({ [k]: v }))
        }
        expect(stored.has('d:old')).toBe(false)
        expect(stored.get('m:exp')).toBe(String(expiresAt))
        expect(stored.get('m:uid')).toBe('+7')
        const loaded = await backend.load(id)
        expect(loaded?.userId).toBe('7')
        expect(loaded?.expiresAt).toBe(expiresAt)
        const { fn: _fn, gone: _gone, ...expected } = set
        expect({ ...loaded?.data }).toEqual({ kept: 2, ...expected })
      })

      it('a user id of newlines and spaces survives a save, with and without a value naming its field', async () => {
        const id = (await backend.create(backend.idFormat.generate(), {
          data: { a: 1 },
          expiresAt: Date.now() + HOUR,
          userId: null,
        }))!
        // SAVE's first argument ends with the first named value after the header's last newline.
        const userId = 'u\n1 2\n'
        const expiresAt = Date.now() + 2 * HOUR
        const record = { data: {}, expiresAt, userId }
        expect(await backend.save(id, { set: { 'we"ird': 5 }, deleted: [] }, record)).toBe(true)
        expect(await backend.load(id)).toMatchObject({ userId, expiresAt })
        expect(await backend.save(id, { set: { a: 2, b: 3 }, deleted: [] }, record)).toBe(true)
        const loaded = await backend.load(id)
        expect(loaded).toMatchObject({ userId, expiresAt })
        expect({ ...loaded?.data }).toEqual({ a: 2, 'we"ird': 5, b: 3 })
      })

      it('a save whose expiry is not a whole number of ms is refused, typed, and writes nothing', async () => {
        const id = (await backend.create(backend.idFormat.generate(), {
          data: { a: 1 },
          expiresAt: Date.now() + HOUR,
          userId: null,
        }))!
        const save = backend.save(
          id,
          { set: { a: 2 }, deleted: [] },
          { data: {}, expiresAt: Date.now() + 0.5, userId: null },
        )
        await expect(save).rejects.toBeInstanceOf(SessionBackendError)
        expect((await backend.load(id))?.data).toEqual({ a: 1 })
      })

      it('a session with more than 16 kB of values is answered whole (Redis checks no value of it)', async () => {
        const big = 'x'.repeat(20_000)
        const { id } = await write({
          'm:exp': String(Date.now() + HOUR),
          'm:uid': '-',
          'd:big': JSON.stringify({ big }),
        })
        const loaded = await backend.load(id)
        expect(replies).toHaveLength(1)
        expect(Array.isArray(replies[0])).toBe(true)
        expect({ ...loaded?.data }).toEqual({ big })
      })

      it('an expired hash still held by Redis is no session; a missing key is none', async () => {
        const { id } = await write({ 'm:exp': String(Date.now() - 1000), 'm:uid': '-', 'd:a': '{"a":1}' })
        expect(await backend.load(id)).toBeNull()
        expect(await backend.load(backend.idFormat.generate())).toBeNull()
      })
    },
  )
}

describe("load: LOAD's joined text, read without a server", () => {
  // A client that answers LOAD with `text` and HGETALL with an empty hash (no session).
  const answering = (text: string) => {
    const sent: string[] = []
    const commands: RedisCommands = {
      send: async (_key, args) => {
        sent.push(args[0]!)
        return args[0] === 'EVALSHA' ? text : []
      },
    }
    return { sent, backend: redisBackend({ client: commands, prefix: 'sbt_load_text:', logger: quiet }) }
  }
  const later = Date.now() + HOUR

  it('takes the expiry ahead of the JSON, the marker and the data from one text', async () => {
    const { sent, backend } = answering(`${later},["+42",{"count":3}]`)
    const loaded = await backend.load(backend.idFormat.generate())
    expect(loaded && { ...loaded, data: { ...loaded.data } }).toEqual({
      data: { count: 3 },
      expiresAt: later,
      userId: '42',
    })
    expect(sent).toEqual(['EVALSHA'])
  })

  it('reads an escaped marker and nested data as JSON does', async () => {
    const texts: [string, unknown][] = [
      [`${later},["+a\\/b",{"n":1}]`, { data: { n: 1 }, userId: 'a/b' }], // cjson writes / as \/
      [`${later},["-",{"o":{"a":[1]},"s":"q\\"q"}]`, { data: { o: { a: [1] }, s: 'q"q' }, userId: null }],
      [`${later},["+7", {"n": 1}]`, { data: { n: 1 }, userId: '7' }], // spaced as JSON may be
    ]
    for (const [text, expected] of texts) {
      const { sent, backend } = answering(text)
      const loaded = await backend.load(backend.idFormat.generate())
      expect(loaded && { data: { ...loaded.data }, userId: loaded.userId }, text).toEqual(expected)
      expect(Object.getPrototypeOf(loaded?.data), text).not.toBe(Object.prototype)
      expect(sent, text).toEqual(['EVALSHA'])
    }
  })

  it('reads the hash whole when the text is not a joined record', async () => {
    const texts = [
      `${later}["-",{}]`, // no comma
      `,["-",{}]`, // no digits
      `${later}x,["-",{}]`,
      `12345678901234567,["-",{}]`, // 17 digits
      `9007199254740993,["-",{}]`, // past the safe integers
      `${later},["-",{},1]`,
      `${later},[1,{}]`,
      `${later},["x",{}]`, // not a marker
      `${later},["-",[]]`,
      `${later},["-",{}`,
      `[${later},"-",{}]`, // the text before the expiry moved ahead of the JSON
      `${later},["-",{"a":1}]]`,
      `${later},["-",{"a":1}]x`,
      `${later},["-"{"a":1}]`,
      `${later},["-"x{"a":1}]`,
      `${later},["-",{"a":1},{}]`,
      `${later},["-",{"a":1}`,
    ]
    for (const text of texts) {
      const { sent, backend } = answering(text)
      expect(await backend.load(backend.idFormat.generate()), text).toBeNull()
      expect(sent, text).toEqual(['EVALSHA', 'HGETALL'])
    }
  })

  it('answers no session for an expiry already past, without reading the hash', async () => {
    const { sent, backend } = answering(`${Date.now() - 1},["-",{"a":1}]`)
    expect(await backend.load(backend.idFormat.generate())).toBeNull()
    expect(sent).toEqual(['EVALSHA'])
  })
})

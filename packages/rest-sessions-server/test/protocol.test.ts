import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Answer,
  dropNamespace,
  freshNamespace,
  manualClock,
  redisClient,
  startServer,
} from './helpers.ts'

const TOKEN = /^[A-Za-z0-9]{64}$/
const JSON_TYPE = 'application/json; charset=utf-8'
const FORBIDDEN = (key: string) => ({
  name: 'invalidValue',
  message: `d.${key} has a forbidden type. Only strings, numbers, boolean and null are allowed.`,
})
const otherToken = () => 'A'.repeat(63) + String(Math.floor(Math.random() * 10))

const redisUp = await serviceAvailable('redis')

for (const strict of [false, true]) {
  // The original answered validation errors with 500; our server answers 400 unless strict.
  const V = strict ? 500 : 400
  describe.skipIf(!redisUp)(
    `rest-sessions protocol (reference §2-§7), ${strict ? 'strict' : 'default'} mode`,
    () => {
      const namespace = freshNamespace()
      const clock = manualClock()
      let ctx: Awaited<ReturnType<typeof startServer>>
      let redis: Awaited<ReturnType<typeof redisClient>>
      let appCounter = 0
      const freshApp = () => `app${++appCounter}_${namespace.slice(-6)}`

      beforeAll(async () => {
        ctx = await startServer({ namespace, now: clock.now, strict })
        redis = await redisClient()
      })
      afterAll(async () => {
        await ctx?.server.close()
        await dropNamespace(redis, namespace)
        await redis?.close()
      })

      const create = async (
        app: string,
        id: string,
        query = 'ip=10.0.0.1',
        json?: unknown,
      ): Promise<string> => {
        const answer = await ctx.call(
          'PUT',
          `/${app}/create/${encodeURIComponent(id)}?${query}`,
          json === undefined ? {} : { json },
        )
        expect(answer.status, answer.text).toBe(200)
        const { token } = answer.json as { token: string }
        expect(token).toMatch(TOKEN)
        return token
      }
      const expectError = (answer: Answer, status: number, body: unknown) => {
        expect(answer.status).toBe(status)
        expect(answer.type).toBe(JSON_TYPE)
        expect(answer.json).toEqual(body)
      }

      it('GET /ping answers PONG', async () => {
        const answer = await ctx.call('GET', '/ping')
        expect(answer.status).toBe(200)
        expect(answer.text).toBe('PONG')
        expect(answer.type).toMatch(/^application\/json/)
      })

      it('create answers only a token; get shows the session in the original field order', async () => {
        const app = freshApp()
        const answer = await ctx.call('PUT', `/${app}/create/user2?ip=10.0.0.1&ttl=3600`, {
          json: { foo: 'bar', n: 1.5, b: true, z: null, u: 'héllo 日本' },
        })
        expect(answer.status).toBe(200)
        expect(answer.type).toBe(JSON_TYPE)
        expect(Object.keys(answer.json as object)).toEqual(['token'])
        const token = (answer.json as { token: string }).token
        const got = await ctx.call('GET', `/${app}/get/${token}`)
        expect(got.text).toBe(
          '{"id":"user2","r":1,"w":1,"ttl":3600,"idle":0,"ip":"10.0.0.1","d":{"foo":"bar","n":1.5,"b":true,"u":"héllo 日本"}}',
        )
        expect((await ctx.call('GET', `/${app}/get/${token}`)).json).toMatchObject({ r: 2, w: 1 })
      })

      it('create: defaults, empty and non-JSON bodies, repeated parameters', async () => {
        const app = freshApp()
        const plain = await create(app, 'u1')
        expect((await ctx.call('GET', `/${app}/get/${plain}`)).json).toEqual({
          id: 'u1',
          r: 1,
          w: 1,
          ttl: 7200,
          idle: 0,
          ip: '10.0.0.1',
        })
        const empty = await create(app, 'u1', 'ip=1.2.3.4&ttl=', {})
        expect((await ctx.call('GET', `/${app}/get/${empty}`)).json).not.toHaveProperty('d')
        expect((await ctx.call('GET', `/${app}/get/${empty}`)).json).toMatchObject({ ttl: 7200 })
        const onlyNull = await create(app, 'u1', 'ip=x', { z: null })
        expect((await ctx.call('GET', `/${app}/get/${onlyNull}`)).json).not.toHaveProperty('d')
        const form = await ctx.call('PUT', `/${app}/create/u1?ip=x`, {
          body: 'a=1',
          type: 'application/x-www-form-urlencoded',
        })
        const formToken = (form.json as { token: string }).token
        expect((await ctx.call('GET', `/${app}/get/${formToken}`)).json).not.toHaveProperty('d')
        const repeated = await create(app, 'u1', 'ip=a&ip=b&ttl=10&ttl=20')
        expect((await ctx.call('GET', `/${app}/get/${repeated}`)).json).toMatchObject({ ip: 'a,b', ttl: 10 })
        const spaced = await create(app, 'u space')
        expect((await ctx.call('GET', `/${app}/get/${spaced}`)).json).toMatchObject({ id: 'u space' })
        const long = await create(app, 'i'.repeat(200), 'ip=x&ttl=99999999')
        expect((await ctx.call('GET', `/${app}/get/${long}`)).json).toMatchObject({
          id: 'i'.repeat(200),
          ttl: 99999999,
        })
      })

      it('create: validation errors, in the original order and wording', async () => {
        const app = freshApp()
        expectError(await ctx.call('PUT', `/${app}/create/user1`), V, {
          name: 'missingParameter',
          message: 'No ip supplied',
        })
        expectError(await ctx.call('PUT', '/my/create/user1?ip=127.0.0.1'), V, {
          name: 'invalidFormat',
          message: 'Invalid app format',
        })
        // app is checked before ip
        expectError(await ctx.call('PUT', '/my/create/user1'), V, {
          name: 'invalidFormat',
          message: 'Invalid app format',
        })
        expectError(await ctx.call('PUT', `/${app}/create/user1?ip=127.0.0.1&ttl=5`), V, {
          name: 'invalidValue',
          message: 'ttl must be a positive integer >= 10',
        })
        expectError(await ctx.call('PUT', `/${app}/create/user1?ip=${'1'.repeat(40)}`), V, {
          name: 'invalidFormat',
          message: 'Invalid ip format',
        })
        // ip is checked before ttl, ttl before d
        expectError(await ctx.call('PUT', `/${app}/create/user1?ttl=5`, { json: [1] }), V, {
          name: 'missingParameter',
          message: 'No ip supplied',
        })
        expectError(await ctx.call('PUT', `/${app}/create/user1?ip=1&ttl=5`, { json: [1] }), V, {
          name: 'invalidValue',
          message: 'ttl must be a positive integer >= 10',
        })
        expectError(
          await ctx.call('PUT', `/${app}/create/user1?ip=1`, { json: { o: { a: 1 } } }),
          V,
          FORBIDDEN('o'),
        )
        expectError(await ctx.call('PUT', `/${app}/create/user1?ip=1`, { json: [1, 2] }), V, {
          name: 'invalidValue',
          message: 'd must be an object',
        })
        const bad = await ctx.call('PUT', `/${app}/create/user1?ip=1`, { body: '{bad json' })
        expect(bad.status).toBe(400)
        expect(bad.json).toMatchObject({ name: 'SyntaxError' })
      })

      it('beyond the original: 400 for a line break in an id, 413 for a body over the limit', async () => {
        const app = freshApp()
        expectError(await ctx.call('PUT', `/${app}/create/a%0Ab?ip=1`), 400, {
          name: 'invalidFormat',
          message: 'Invalid id format',
        })
        const big = await ctx.call('PUT', `/${app}/create/u?ip=1`, { json: { big: 'x'.repeat(60_001) } })
        expect(big.status).toBe(413)
        expect(big.json).toMatchObject({ name: 'PayloadTooLargeError' })
        expect((await ctx.call('PUT', `/${app}/create/u?ip=1&ttl=${'9'.repeat(20)}`)).status).toBe(400)
      })

      it('get: {} for unknown, other-app and killed tokens; a validation error for a malformed token', async () => {
        const app = freshApp()
        const token = await create(app, 'u')
        expect((await ctx.call('GET', `/${app}/get/${otherToken()}`)).json).toEqual({})
        expect((await ctx.call('GET', `/${freshApp()}/get/${token}`)).json).toEqual({})
        expectError(await ctx.call('GET', `/${app}/get/short`), V, {
          name: 'invalidFormat',
          message: 'Invalid token format',
        })
        expectError(await ctx.call('GET', `/ab/get/short`), V, {
          name: 'invalidFormat',
          message: 'Invalid app format',
        })
        const wrongMethod = await ctx.call('POST', `/${app}/get/${token}`)
        expect(wrongMethod.status).toBe(404)
        expect(wrongMethod.type).toMatch(/^text\/html/)
        expect(wrongMethod.text).toContain(`Cannot POST /${app}/get/${token}`)
      })

      it('answers a matching If-None-Match with 304 and no body', async () => {
        const app = freshApp()
        const token = await create(app, 'etag-user')
        const first = await ctx.call('GET', `/${app}/soid/etag-user`)
        const etag = first.headers.get('etag')
        expect(etag).toMatch(/^W\/"/)
        const again = await ctx.call('GET', `/${app}/soid/etag-user`, { headers: { 'if-none-match': etag! } })
        expect(again.status).toBe(304)
        expect(again.text).toBe('')
        expect(token).toMatch(TOKEN)
      })

      it('set merges, deletes null keys, drops an emptied d, keeps falsy values', async () => {
        const app = freshApp()
        const token = await create(app, 'user2', 'ip=10.0.0.1&ttl=3600', {
          foo: 'bar',
          n: 1.5,
          b: true,
          u: 'héllo 日本',
        })
        await ctx.call('GET', `/${app}/get/${token}`)
        const merged = await ctx.call('POST', `/${app}/set/${token}`, {
          json: { foo: null, added: 42, s: 'x' },
        })
        expect(merged.text).toBe(
          '{"id":"user2","r":2,"w":2,"ttl":3600,"idle":0,"ip":"10.0.0.1","d":{"n":1.5,"b":true,"u":"héllo 日本","added":42,"s":"x"}}',
        )
        const emptied = await ctx.call('POST', `/${app}/set/${token}`, {
          json: { added: null, s: null, n: null, b: null, u: null },
        })
        expect(emptied.text).toBe('{"id":"user2","r":2,"w":3,"ttl":3600,"idle":0,"ip":"10.0.0.1"}')
        const falsy = await ctx.call('POST', `/${app}/set/${token}`, { json: { a: false, b: 0, c: '' } })
        expect((falsy.json as { d: unknown }).d).toEqual({ a: false, b: 0, c: '' })
        const updated = await ctx.call('POST', `/${app}/set/${token}`, {
          body: '{"b":1,"big":1e400,"neg":-0,"e":"a\\"\\\\\\u2028"}',
        })
        expect((updated.json as { d: unknown }).d).toEqual({
          a: false,
          b: 1,
          c: '',
          big: null,
          neg: 0,
          e: 'a"\\\u2028',
        })
        expect(Object.keys((updated.json as { d: object }).d)).toEqual(['a', 'b', 'c', 'big', 'neg', 'e'])
      })

      it('set: errors and unknown tokens', async () => {
        const app = freshApp()
        const token = await create(app, 'u')
        const noKey = { name: 'invalidValue', message: 'd must containt at least one key.' }
        expectError(await ctx.call('POST', `/${app}/set/${token}`, { json: {} }), V, noKey)
        expectError(await ctx.call('POST', `/${app}/set/${token}`), V, noKey)
        expectError(
          await ctx.call('POST', `/${app}/set/${token}`, { body: 'a=1', type: 'text/plain' }),
          V,
          noKey,
        )
        expectError(await ctx.call('POST', `/${app}/set/${token}`, { json: { a: [1] } }), V, FORBIDDEN('a'))
        expect((await ctx.call('POST', `/${app}/set/${otherToken()}`, { json: { a: 1 } })).json).toEqual({})
        expect((await ctx.call('POST', `/${app}/set/${token}`, { body: '"str"' })).status).toBe(400)
        expect((await ctx.call('POST', `/${app}/set/${token}`, { body: 'null' })).status).toBe(400)
        expectError(await ctx.call('POST', `/${app}/set/bad`, { json: { a: 1 } }), V, {
          name: 'invalidFormat',
          message: 'Invalid token format',
        })
      })

      it('soid, soapp and activity list sessions without touching them', async () => {
        const app = freshApp()
        const a = await create(app, 'user2', 'ip=10.0.0.1&ttl=3600', { x: 1 })
        clock.advance(5)
        const b = await create(app, 'user2', 'ip=10.0.0.2&ttl=600')
        await create(app, 'other', 'ip=10.0.0.3')
        const soid = (await ctx.call('GET', `/${app}/soid/user2`)).json as {
          sessions: Array<Record<string, unknown>>
        }
        expect(soid.sessions).toHaveLength(2)
        expect(soid.sessions.map((s) => s.ip).sort()).toEqual(['10.0.0.1', '10.0.0.2'])
        for (const s of soid.sessions)
          expect(Object.keys(s).slice(0, 6)).toEqual(['id', 'r', 'w', 'ttl', 'idle', 'ip'])
        expect((await ctx.call('GET', `/${app}/soid/nobody`)).json).toEqual({ sessions: [] })
        clock.advance(1)
        expect((await ctx.call('GET', `/${app}/get/${a}`)).json).toMatchObject({ r: 1, idle: 6, d: { x: 1 } })
        // soapp: most recently active first (a was just read), d included
        const soapp = (await ctx.call('GET', `/${app}/soapp?dt=600`)).json as {
          sessions: Array<Record<string, unknown>>
        }
        expect(soapp.sessions).toHaveLength(3)
        expect(soapp.sessions[0]).toMatchObject({ id: 'user2', ip: '10.0.0.1', d: { x: 1 } })
        expectError(await ctx.call('GET', `/${app}/soapp`), V, {
          name: 'invalidValue',
          message: 'ttl must be a positive integer >= 10',
        })
        expectError(await ctx.call('GET', `/${app}/soapp?dt=9`), V, {
          name: 'invalidValue',
          message: 'ttl must be a positive integer >= 10',
        })
        expect((await ctx.call('GET', `/${app}/activity?dt=600`)).json).toEqual({ activity: 2 })
        expect((await ctx.call('GET', `/${app}/activity?dt=10.9`)).json).toEqual({ activity: 2 })
        expect((await ctx.call('GET', `/${freshApp()}/activity?dt=600`)).json).toEqual({ activity: 0 })
        expectError(await ctx.call('GET', `/${app}/activity`), V, {
          name: 'invalidValue',
          message: 'ttl must be a positive integer >= 10',
        })
        expect(b).toMatch(TOKEN)
      })

      it('kill, killsoid and killall answer counts', async () => {
        const app = freshApp()
        const a = await create(app, 'u1')
        await create(app, 'u1')
        await create(app, 'a:b')
        expect((await ctx.call('DELETE', `/${app}/kill/${a}`)).json).toEqual({ kill: 1 })
        expect((await ctx.call('DELETE', `/${app}/kill/${a}`)).json).toEqual({ kill: 0 })
        expectError(await ctx.call('DELETE', `/${app}/kill/nope`), V, {
          name: 'invalidFormat',
          message: 'Invalid token format',
        })
        expect((await ctx.call('DELETE', `/${app}/killsoid/u1`)).json).toEqual({ kill: 1 })
        expect((await ctx.call('DELETE', `/${app}/killsoid/u1`)).json).toEqual({ kill: 0 })
        await create(app, 'u2')
        expect((await ctx.call('DELETE', `/${app}/killall`)).json).toEqual({ kill: 2 })
        expect((await ctx.call('DELETE', `/${app}/killall`)).json).toEqual({ kill: 0 })
        expectError(await ctx.call('DELETE', '/ab/killall'), V, {
          name: 'invalidFormat',
          message: 'Invalid app format',
        })
        // ids with ':' leave nothing behind (the original left a stale set and _users entry)
        expect(await redis.keys(`${namespace}:${app}:*`)).toEqual([])
      })

      it('sliding expiry: valid while idle <= ttl, last access moves in 2-second steps', async () => {
        const app = freshApp()
        const read = await create(app, 'u', 'ip=x&ttl=10')
        const untouched = await create(app, 'u', 'ip=x&ttl=10')
        clock.advance(1)
        expect((await ctx.call('GET', `/${app}/get/${read}`)).json).toMatchObject({ idle: 1 })
        clock.advance(1) // idle 2 at the next read: la moves
        expect((await ctx.call('GET', `/${app}/get/${read}`)).json).toMatchObject({ idle: 2 })
        expect((await ctx.call('GET', `/${app}/get/${read}`)).json).toMatchObject({ idle: 0 })
        clock.advance(4) // t = 6
        expect((await ctx.call('GET', `/${app}/get/${read}`)).json).toMatchObject({ idle: 4 })
        clock.advance(4) // t = 10: the untouched one is exactly at its ttl, still valid
        expect((await ctx.call('GET', `/${app}/soid/u`)).json).toMatchObject({ sessions: [{}, {}] })
        clock.advance(4) // t = 14
        expect((await ctx.call('GET', `/${app}/get/${untouched}`)).json).toEqual({})
        expect((await ctx.call('POST', `/${app}/set/${untouched}`, { json: { a: 1 } })).json).toEqual({})
        expect((await ctx.call('GET', `/${app}/get/${read}`)).json).toMatchObject({ idle: 8 })
        clock.advance(11)
        expect((await ctx.call('GET', `/${app}/get/${read}`)).json).toEqual({})
        // expired sessions are invisible to kill but counted by killsoid
        expect((await ctx.call('DELETE', `/${app}/kill/${read}`)).json).toEqual({ kill: 0 })
        expect((await ctx.call('GET', `/${app}/soid/u`)).json).toEqual({ sessions: [] })
        expect((await ctx.call('DELETE', `/${app}/killsoid/u`)).json).toEqual({ kill: 2 })
      })

      it('killall deletes and counts expired sessions; the wiper deletes expired ones only', async () => {
        const app = freshApp()
        await create(app, 'u', 'ip=x&ttl=10')
        await create(app, 'v', 'ip=x&ttl=10')
        clock.advance(20)
        expect((await ctx.call('DELETE', `/${app}/killall`)).json).toEqual({ kill: 2 })
        const gone = await create(app, 'u', 'ip=x&ttl=10')
        const live = await create(app, 'u', 'ip=x&ttl=3600')
        clock.advance(20)
        expect(await ctx.server.wipe()).toBeGreaterThanOrEqual(1)
        expect(await redis.exists(`${namespace}:${app}:${gone}`)).toBe(0)
        expect(await redis.exists(`${namespace}:${app}:${live}`)).toBe(1)
        expect(await redis.sMembers(`${namespace}:${app}:us:u`)).toEqual([live])
      })
    },
  )
}

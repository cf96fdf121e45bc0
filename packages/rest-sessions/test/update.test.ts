import { createSessionManager, SessionConflictError } from '@sessionbridge/core'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restSessionsBackend, type Transport } from '../src/index.ts'
import { HOUR, record, startServer, transports } from './helpers.ts'

const redisUp = await serviceAvailable('redis')
const options = (maxAttempts = 100) => ({ expiresAt: Date.now() + HOUR, userId: null, maxAttempts })

/** What our server's extensions give the backend: atomic same-key update, exact ttl. */
for (const [label, transport] of transports) {
  describe.skipIf(!redisUp)(`against our server, over ${label}`, () => {
    let ctx: Awaited<ReturnType<typeof startServer>>
    const opened: Array<{ close?(): Promise<void> }> = []
    const backend = (app: string) => {
      // A generous timeout: n contenders make about n^2/2 conditional writes on a shared, loaded box.
      const b = restSessionsBackend({ url: ctx.url, app, transport: transport(), timeout: 15_000 })
      opened.push(b)
      return b
    }
    beforeAll(async () => {
      ctx = await startServer()
    })
    afterAll(async () => {
      await Promise.all(opened.map((b) => b.close?.()))
      await ctx?.stop()
    })

    it('declares merge, update and a movable ttl once it has asked', async () => {
      const b = backend('declares')
      await b.ready()
      expect(b.extensions).toEqual({ merge: true, newttl: true, update: true, guard: true })
      expect(b.capabilities).toMatchObject({ merge: true, update: true, fixedTtl: false })
      const reader = backend('declares')
      expect(reader.capabilities.update).toBe(false) // not asked yet: only what holds everywhere
      expect(await reader.load('Q'.repeat(64))).toBeNull() // the first call asks
      expect(reader.capabilities).toMatchObject({ merge: true, update: true, fixedTtl: false })
      const fixed = restSessionsBackend({ url: ctx.url, app: 'declares', ttl: 600 })
      await fixed.ready()
      expect(fixed.capabilities.fixedTtl).toBe(true) // a fixed ttl option never sends newttl
    })

    it('the first request after construction asks the server, then takes the atomic path', async () => {
      const setup = backend('first')
      const id = (await setup.create('x', record({ n: 0 })))!
      // A backend just constructed, whose first ask of the extensions fails (a 503 from a proxy):
      // the session still loads (a failed ask does not fail the read), so after load() alone the
      // capabilities are still the cautious ones. canUpdate() must ask again, not answer false.
      const inner = transport()
      const seen: string[] = []
      let refused = 0
      const flaky: Transport = {
        name: 'flaky',
        async request(request) {
          const path = new URL(request.url).pathname
          seen.push(`${request.method} ${path.split('/').slice(0, 3).join('/')}`)
          if (path === '/.well-known/rest-sessions' && refused++ === 0) return { status: 503, body: '{}' }
          return inner.request(request)
        },
        close: () => inner.close?.() ?? Promise.resolve(),
      }
      const fresh = restSessionsBackend({ url: ctx.url, app: 'first', transport: flaky })
      opened.push(fresh)
      const manager = createSessionManager({ backend: fresh })
      const session = await manager.open({ cookie: `sessionid=${id}`, protocol: 'https' })
      await session.load()
      expect(fresh.capabilities.update).toBe(false) // the read went through, the ask did not
      // The example's counter: atomic wherever the backend can be.
      expect(await session.canUpdate()).toBe(true)
      expect(await session.update('n', (n) => Number(n ?? 0) + 1)).toBe(1)
      expect(seen).toContain('POST /first/update')
      expect(seen.filter((s) => s.startsWith('GET /.well-known'))).toHaveLength(2)
      // A session opened on a backend nobody has asked yet gets the final answer too.
      const untouched = restSessionsBackend({ url: ctx.url, app: 'first', transport: transport() })
      opened.push(untouched)
      const other = await createSessionManager({ backend: untouched }).open({ cookie: null })
      expect(untouched.capabilities.update).toBe(false)
      expect(await other.canUpdate()).toBe(true)
    })

    it('update: 25 parallel increments of one key, each applied once', async () => {
      const b = backend('counter')
      const id = (await b.create('x', record({ n: 0 })))!
      const results = await Promise.all(
        Array.from({ length: 25 }, () => b.update!(id, 'n', (n) => Number(n ?? 0) + 1, options())),
      )
      expect(results.map((r) => r!.value as number).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 25 }, (_, i) => i + 1),
      )
      expect((await b.load(id))?.data.n).toBe(25)
    })

    it('update: objects, absent keys, deletion, and a gone session', async () => {
      const b = backend('values')
      const rec = record({ keep: 'x' })
      const id = (await b.create('x', rec))!
      const added = await b.update!(id, 'cart', (cart) => [...((cart as number[]) ?? []), 1], options())
      expect(added).toEqual({ value: [1], data: { ...rec.data, cart: [1] } })
      expect((await b.update!(id, 'cart', (cart) => [...(cart as number[]), 2], options()))?.value).toEqual([
        1, 2,
      ])
      expect(await b.update!(id, 'cart', () => undefined, options())).toEqual({
        value: undefined,
        data: rec.data,
      })
      await b.destroy(id)
      expect(await b.update!(id, 'cart', () => 1, options())).toBeNull()
      expect(await b.update!('not-a-token', 'cart', () => 1, options())).toBeNull()
    })

    it('update: runs out of attempts with SessionConflictError, never a silent loss', async () => {
      // A real competing write lands right before each conditional write (timed by the transport).
      const inner = transport()
      let writes = 0
      const racing: Transport = {
        name: 'racing',
        async request(request) {
          if (request.method === 'POST' && request.url.includes('/update/')) {
            const url = request.url.replace('/update/', '/set/').split('?')[0]!
            await inner.request({ ...request, url, body: JSON.stringify({ n: 1000 + ++writes }) })
          }
          return inner.request(request)
        },
        close: () => inner.close?.() ?? Promise.resolve(),
      }
      const b = restSessionsBackend({ url: ctx.url, app: 'conflict', transport: racing })
      opened.push(b)
      const id = (await b.create('x', record({ n: 0 })))!
      let calls = 0
      const bump = (n: unknown) => {
        calls++
        return Number(n) + 1
      }
      const error = await b.update!(id, 'n', bump, options(3)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SessionConflictError)
      expect(error).toMatchObject({ key: 'n', attempts: 3, status: 409 })
      expect(calls).toBe(3)
      expect((await b.load(id))?.data.n).toBe(1003) // the competing writes only
    })

    it('a write and an update within the touch interval leave the server’s ttl as it is', async () => {
      let now = Date.now()
      const b = restSessionsBackend({ url: ctx.url, app: 'kept', transport: transport(), now: () => now })
      opened.push(b)
      const manager = createSessionManager({ backend: b, maxAge: 3600, now: () => now })
      const login = await manager.open({ cookie: null })
      login.set('_auth_user_id', 'kept')
      const cookie = (await login.commit()).setCookie!.split(';')[0]!
      const ttl = async () =>
        ((await (await fetch(`${ctx.url}/kept/get/${login.id}`)).json()) as { ttl: number }).ttl
      // Ten seconds pass between each load and its write, by this client's clock: a ttl derived
      // from the kept expiry would be ten seconds short.
      const write = await manager.open({ cookie })
      await write.load()
      now += 10_000
      write.set('n', 1)
      expect(await write.commit()).toMatchObject({ reason: 'save', setCookie: null })
      expect(await ttl()).toBe(3600)
      const update = await manager.open({ cookie })
      await update.load()
      now += 10_000
      expect(await update.update('n', (n) => Number(n) + 1)).toBe(2)
      expect(await update.commit()).toMatchObject({ reason: 'nothing', setCookie: null })
      expect(await ttl()).toBe(3600)
    })

    it('setMaxAge keeps the token and moves the server’s ttl (newttl)', async () => {
      const b = backend('maxage')
      const manager = createSessionManager({ backend: b, maxAge: 3600 })
      const login = await manager.open({ cookie: null })
      login.set('_auth_user_id', 'remember')
      const first = await login.commit()
      const session = await manager.open({ cookie: first.setCookie!.split(';')[0]! })
      session.setMaxAge(86_400)
      const result = await session.commit()
      expect(result.reason).toBe('save')
      expect(session.id).toBe(login.id)
      expect(result.setCookie).toContain('Max-Age=86400')
      const stored = (await (await fetch(`${ctx.url}/maxage/get/${login.id}`)).json()) as { ttl: number }
      expect(stored.ttl).toBe(86_400)
    })
  })
}

import { createSessionManager } from '@sessionbridge/core'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RestSessionsUnsupportedError, restSessionsBackend } from '../src/index.ts'
import { record, startServer, transports } from './helpers.ts'

const redisUp = await serviceAvailable('redis')

/**
 * The backend against a server that behaves as the original 2.0.1 (our server's strict mode):
 * what it declares, what it still does right, and the lost-update window it cannot close.
 */
for (const [label, transport] of transports) {
  describe.skipIf(!redisUp)(`against the original server (strict mode), over ${label}`, () => {
    let ctx: Awaited<ReturnType<typeof startServer>>
    const opened: Array<{ close?(): Promise<void> }> = []
    const backend = (app: string) => {
      const b = restSessionsBackend({ url: ctx.url, app, transport: transport() })
      opened.push(b)
      return b
    }
    const raw = async (path: string) =>
      (await fetch(`${ctx.url}${path}`)).json() as Promise<Record<string, unknown>>
    beforeAll(async () => {
      ctx = await startServer({ strict: true })
    })
    afterAll(async () => {
      await Promise.all(opened.map((b) => b.close?.()))
      await ctx?.stop()
    })

    it('declares only what the original can do, once it has asked', async () => {
      const b = backend('declares')
      expect(b.capabilities).toMatchObject({ merge: false, update: false, fixedTtl: true })
      await b.ready()
      expect(b.extensions).toEqual({ merge: false, newttl: false, update: false, guard: false })
      expect(b.capabilities).toMatchObject({ merge: false, update: false, fixedTtl: true, issuesIds: true })
    })

    it('loses keys of parallel writers: the window is there, and shown', async () => {
      // The original's set reads, merges in Node and writes back. 25 parallel saves of different
      // keys, up to 5 trials: at least one trial loses a key, and every save answered true.
      const b = backend('window')
      let lost = 0
      for (let trial = 0; trial < 5 && lost === 0; trial++) {
        const rec = record({ base: true })
        const id = (await b.create('x', rec))!
        const saved = await Promise.all(
          Array.from({ length: 25 }, (_, i) => b.save(id, { set: { [`k${i}`]: i }, deleted: [] }, rec)),
        )
        expect(saved.every(Boolean)).toBe(true)
        const data = (await b.load(id))!.data
        lost = 25 - Object.keys(data).filter((k) => k.startsWith('k')).length
      }
      expect(lost).toBeGreaterThan(0)
    })

    it('still sends only the changed keys: a sequential writer never drops another’s key', async () => {
      const b = backend('changed')
      const rec = record({ a: 1, b: 2 })
      const id = (await b.create('x', rec))!
      const other = backend('changed')
      await other.save(id, { set: { c: 3 }, deleted: [] }, rec)
      // This writer's record is stale (no c): a whole-record write would drop c.
      await b.save(id, { set: { a: 10 }, deleted: ['b'] }, { ...rec, data: { ...rec.data, a: 10 } })
      expect((await b.load(id))?.data).toEqual({ _auth_user_id: rec.userId, a: 10, c: 3 })
    })

    it('refuses update() with a clear error and writes nothing', async () => {
      const b = backend('update')
      const rec = record({ n: 1 })
      const id = (await b.create('x', rec))!
      const attempt = b.update(id, 'n', (n) => Number(n) + 1, {
        expiresAt: rec.expiresAt,
        userId: null,
        maxAttempts: 5,
      })
      await expect(attempt).rejects.toBeInstanceOf(RestSessionsUnsupportedError)
      await expect(attempt).rejects.toThrow(/does not offer "update".*rest-sessions-server/)
      expect((await b.load(id))?.data.n).toBe(1)
    })

    it('setMaxAge re-creates the session with the new ttl: new token, data kept, old one gone', async () => {
      const b = backend('maxage')
      const manager = createSessionManager({ backend: b, maxAge: 3600 })
      const login = await manager.open({ cookie: null })
      login.set('_auth_user_id', 'remember')
      login.set('cart', [1, 2])
      const first = await login.commit()
      const oldToken = login.id!
      expect(await raw(`/maxage/get/${oldToken}`)).toMatchObject({ ttl: 3600 })

      const remember = await manager.open({ cookie: first.setCookie!.split(';')[0]! })
      remember.setMaxAge(86_400)
      const result = await remember.commit()
      expect(result.reason).toBe('regenerate')
      const newToken = remember.id!
      expect(newToken).not.toBe(oldToken)
      expect(result.setCookie).toContain('Max-Age=86400')
      // The server keeps it as long as the cookie claims, with the data; the old token is dead.
      expect(await raw(`/maxage/get/${newToken}`)).toMatchObject({ id: 'remember', ttl: 86_400 })
      expect((await b.load(newToken))?.data.cart).toEqual([1, 2])
      expect(await raw(`/maxage/get/${oldToken}`)).toEqual({})

      // Unchanged max age: a plain save, same token.
      const again = await manager.open({ cookie: result.setCookie!.split(';')[0]! })
      again.set('cart', [3])
      expect((await again.commit()).reason).toBe('save')
      expect(again.id).toBe(newToken)
    })
  })
}

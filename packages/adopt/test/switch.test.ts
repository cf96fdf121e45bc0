import type { AddressInfo } from 'node:net'
import { memoryBackend, memoryUserSource } from '@sessionbridge/core'
import { sessionPlugin } from '@sessionbridge/fastify'
import { type SessionEnv, sessionMiddleware } from '@sessionbridge/hono'
import { nodeRedisAdapter } from '@sessionbridge/redis'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { RedisStore } from 'connect-redis'
import express from 'express'
import expressSession from 'express-session'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import koaSession from 'koa-session'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expressSessionAdopter, koaSessionAdopter, redisForeignStore } from '../src/index.ts'

const DAY = 86_400_000
const users = () =>
  memoryUserSource({ users: [{ id: 'u42', username: 'alice', password: 'alice-password' }] })
const pairs = (setCookie: string[]) => setCookie.map((c) => c.split(';')[0]!)
const ours = (setCookie: string[]) => pairs(setCookie).find((c) => c.startsWith('sessionid='))!

const redisUp = await serviceAvailable('redis')
describe.skipIf(!redisUp)(
  'switching from express-session to @sessionbridge/fastify keeps the user logged in',
  () => {
    const client = createClient({ url: SERVICE_URLS.redis })
    const prefix = `sbt_adopt_switch_${process.pid}_${Math.random().toString(36).slice(2, 8)}:`
    beforeAll(() => client.connect())
    afterAll(async () => {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*` }))
        if (keys.length) await client.del(keys)
      await client.close()
    })

    /** The old app: express-session on connect-redis, Passport's `passport.user` and a cart. */
    async function oldAppLogin(): Promise<string> {
      const app = express()
      app.use(
        expressSession({
          secret: 'old-secret',
          store: new RedisStore({ client, prefix }),
          resave: false,
          saveUninitialized: false,
          cookie: { maxAge: DAY },
        }),
      )
      app.post('/login', (req, res) => {
        Object.assign(req.session, { passport: { user: 'u42' }, cart: [1, 2, 3] })
        res.json({ ok: true })
      })
      const server = app.listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      try {
        const { port } = server.address() as AddressInfo
        const answer = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST' })
        // The body's last byte follows the store's save (express-session): read it to the end.
        expect(await answer.json()).toEqual({ ok: true })
        return pairs(answer.headers.getSetCookie()).join('; ')
      } finally {
        server.close()
      }
    }

    it('adopts on the first request: same user, same data, old record deleted, old cookie cleared', async () => {
      const oldCookie = await oldAppLogin()
      const oldId = decodeURIComponent(oldCookie.split('=')[1]!).slice(2).split('.')[0]!
      const app = Fastify()
      await app.register(sessionPlugin, {
        backend: memoryBackend(),
        users: users(),
        adopt: [
          expressSessionAdopter({
            secret: 'old-secret',
            store: redisForeignStore({ client: nodeRedisAdapter(client), prefix }),
          }),
        ],
      })
      app.get('/me', async (request) => ({
        user: (await request.user)?.username ?? null,
        cart: (await request.session.get('cart')) ?? null,
      }))
      app.post('/logout', async (request) => {
        request.logout()
        return { ok: true }
      })

      const first = await app.inject({ url: '/me', headers: { cookie: oldCookie } })
      expect(first.json()).toEqual({ user: 'alice', cart: [1, 2, 3] })
      const setCookie = first.headers['set-cookie'] as string[]
      expect(setCookie.some((c) => /^connect\.sid=; Path=\/; .*Max-Age=0/.test(c))).toBe(true)
      expect(await client.exists(`${prefix}${oldId}`)).toBe(0)
      const cookie = ours(setCookie)

      // From now on our cookie carries the user; the old cookie alone is worth nothing.
      expect((await app.inject({ url: '/me', headers: { cookie } })).json()).toEqual({
        user: 'alice',
        cart: [1, 2, 3],
      })
      expect((await app.inject({ url: '/me', headers: { cookie: oldCookie } })).json()).toEqual({
        user: null,
        cart: null,
      })
      // A browser that kept both cookies is served by ours, and logout ends the session for good.
      const both = `${oldCookie}; ${cookie}`
      expect((await app.inject({ url: '/me', headers: { cookie: both } })).json().user).toBe('alice')
      await app.inject({ method: 'POST', url: '/logout', headers: { cookie: both } })
      expect((await app.inject({ url: '/me', headers: { cookie: both } })).json()).toEqual({
        user: null,
        cart: null,
      })
      await app.close()
    })
  },
)

describe('switching from koa-session (cookie mode) to @sessionbridge/hono', () => {
  async function oldKoaLogin(): Promise<string> {
    const app = new Koa()
    app.keys = ['koa-key']
    app.use(koaSession({ maxAge: DAY }, app))
    app.use((ctx) => {
      ctx.session!.userId = 'u42'
      ctx.session!.theme = 'dark'
      ctx.body = 'ok'
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const answer = await fetch(`http://127.0.0.1:${port}/`)
      expect(await answer.text()).toBe('ok')
      return pairs(answer.headers.getSetCookie()).join('; ')
    } finally {
      server.close()
    }
  }

  it('adopts the cookie session and clears both koa cookies, so a logout is final', async () => {
    const oldCookie = await oldKoaLogin()
    const app = new Hono<SessionEnv>()
    app.use(
      sessionMiddleware({
        backend: memoryBackend(),
        users: users(),
        adopt: [koaSessionAdopter({ keys: ['koa-key'] })],
      }),
    )
    app.get('/me', async (c) =>
      c.json({
        user: (await c.get('user'))?.username ?? null,
        theme: (await c.get('session').get('theme')) ?? null,
      }),
    )
    const first = await app.request('/me', { headers: { cookie: oldCookie } })
    expect(await first.json()).toEqual({ user: 'alice', theme: 'dark' })
    const setCookie = first.headers.getSetCookie()
    expect(setCookie.filter((c) => /^koa\.sess(\.sig)?=; .*Max-Age=0/.test(c))).toHaveLength(2)
    const second = await app.request('/me', { headers: { cookie: ours(setCookie) } })
    expect(await second.json()).toEqual({ user: 'alice', theme: 'dark' })
  })

  it('refuses a bad adopt option at startup', () => {
    expect(() => sessionMiddleware({ backend: memoryBackend(), adopt: [{}] as never })).toThrow(
      /option "adopt"/,
    )
  })
})

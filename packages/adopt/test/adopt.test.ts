import type { AddressInfo } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import { nativeModules } from '@sessionbridge/core/adapter'
import { createMemcachedClient } from '@sessionbridge/memcached'
import { nodeRedisAdapter } from '@sessionbridge/redis'
import { pgClient } from '@sessionbridge/sql'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import connectMemcached from 'connect-memcached'
import connectPgSimple from 'connect-pg-simple'
import { RedisStore } from 'connect-redis'
import express from 'express'
import expressSession from 'express-session'
import Fastify, { type FastifyPluginAsync } from 'fastify'
import Koa from 'koa'
import koaSession from 'koa-session'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  expressSessionAdopter,
  type ForeignStore,
  fastifySessionAdopter,
  koaSessionAdopter,
  memcachedForeignStore,
  redisForeignStore,
  type SessionAdopter,
  sqlForeignStore,
} from '../src/index.ts'
import { hmacSigners } from '../src/signature.ts'

// @fastify/session declares its own `FastifyRequest.session`, which clashes with @sessionbridge/fastify's
// in this project's program (test/switch.test.ts): load it through a specifier TypeScript does not follow.
const FASTIFY_SESSION: string = '@fastify/session'
type FastifySessionPlugin = FastifyPluginAsync<{
  secret: string
  store: object
  saveUninitialized: boolean
  cookie: object
}>
interface SessionRequest {
  session: { set(key: string, value: unknown): void }
}

const unique = (label: string) =>
  `sbt_adopt_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
const DAY = 86_400_000

/** The `Cookie` header a browser would send back after this `Set-Cookie` list. */
function cookieHeader(setCookie: string[] | string | undefined | null): string {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []
  return list.map((c) => c.split(';')[0]).join('; ')
}

/** An Express app with express-session on `store`: `POST /login` stores a Passport user and a cart. */
async function expressLogin(store: expressSession.Store, secret: string): Promise<string> {
  const app = express()
  app.use(expressSession({ secret, store, resave: false, saveUninitialized: false, cookie: { maxAge: DAY } }))
  app.post('/login', (req, res) => {
    const session = req.session as unknown as Record<string, unknown>
    session.passport = { user: 'u42' }
    session.cart = [1, 2, 3]
    res.json({ ok: true })
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  try {
    const { port } = server.address() as AddressInfo
    const answer = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST' })
    expect(answer.status).toBe(200)
    // express-session holds back the body's last byte until the store's save calls back: the
    // headers arrive before the record exists, so the body is read to the end first.
    expect(await answer.json()).toEqual({ ok: true })
    return cookieHeader(answer.headers.getSetCookie())
  } finally {
    server.close()
  }
}

/** Reads, checks and retires one adopted session; then the same cookie finds nothing. */
async function expectAdopted(
  adopter: SessionAdopter,
  cookie: string,
  store: ForeignStore | null,
  id?: string,
) {
  const found = await adopter.read(cookie)
  expect(found).not.toBeNull()
  expect(found!.userId).toBe('u42')
  expect({ ...found!.data }).toEqual({ passport: { user: 'u42' }, cart: [1, 2, 3] })
  expect(Object.getPrototypeOf(found!.data)).toBeNull()
  expect(found!.clearCookies).toContain(adopter.cookieNames[0])
  await found!.retire()
  if (store && id) expect(await store.get(id)).toBeNull()
  if (store) expect(await adopter.read(cookie)).toBeNull()
}

/** The same cookie with its signature's last character changed. */
const tampered = (cookie: string) => cookie.replace(/.(;|$)/, (m, end) => (m[0] === 'A' ? 'B' : 'A') + end)

const redisUp = await serviceAvailable('redis')
describe.skipIf(!redisUp)('adopting express-session and @fastify/session sessions from connect-redis', () => {
  const client = createClient({ url: SERVICE_URLS.redis })
  const prefix = `${unique('redis')}:`
  beforeAll(() => client.connect())
  afterAll(async () => {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*` }))
      if (keys.length) await client.del(keys)
    await client.close()
  })
  const foreign = () => redisForeignStore({ client: nodeRedisAdapter(client), prefix })

  it('express-session: data and user carried over, forged and retired cookies refused', async () => {
    const cookie = await expressLogin(new RedisStore({ client, prefix }), 'old-secret')
    const id = decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0]!
    const adopter = expressSessionAdopter({ secret: ['new-secret', 'old-secret'], store: foreign() })
    expect(await adopter.read(tampered(cookie))).toBeNull()
    expect(await expressSessionAdopter({ secret: 'other', store: foreign() }).read(cookie)).toBeNull()
    // Past the cookie's expiry (one day) the old session is not adopted.
    const later = expressSessionAdopter({
      secret: 'old-secret',
      store: foreign(),
      now: () => Date.now() + 2 * DAY,
    })
    expect(await later.read(cookie)).toBeNull()
    await expectAdopted(adopter, cookie, foreign(), id)
  })

  it('@fastify/session: data and user carried over', async () => {
    const app = Fastify()
    await app.register(fastifyCookie)
    const fastifySession = ((await import(FASTIFY_SESSION)) as { default: FastifySessionPlugin }).default
    await app.register(fastifySession, {
      secret: 'a-fastify-session-secret-of-32-chars-or-more',
      store: new RedisStore({ client, prefix }),
      saveUninitialized: false,
      cookie: { secure: false, maxAge: DAY },
    })
    app.post('/login', async (request) => {
      const { session } = request as unknown as SessionRequest
      session.set('passport', { user: 'u42' })
      session.set('cart', [1, 2, 3])
      return { ok: true }
    })
    const answer = await app.inject({ method: 'POST', url: '/login' })
    await app.close()
    const cookie = cookieHeader(answer.headers['set-cookie'] as string[] | string)
    const adopter = fastifySessionAdopter({
      secret: 'a-fastify-session-secret-of-32-chars-or-more',
      store: foreign(),
    })
    expect(await adopter.read(tampered(cookie))).toBeNull()
    await expectAdopted(adopter, cookie, foreign())
  })
})

const pgUp = await serviceAvailable('postgres')
describe.skipIf(!pgUp)('adopting express-session sessions from connect-pg-simple', () => {
  const pool = new pg.Pool({ connectionString: SERVICE_URLS.postgres, max: 3 })
  const table = unique('pg')
  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`)
    await pool.end()
  })

  it('reads the row, honours its expiry column, deletes it on retire', async () => {
    const PgStore = connectPgSimple(expressSession)
    // connect-pg-simple's own table.sql, with an index name of this run's (its fixed one would clash).
    await pool.query(
      `CREATE TABLE "${table}" ("sid" varchar NOT NULL COLLATE "default", "sess" json NOT NULL, "expire" timestamp(6) NOT NULL, CONSTRAINT "${table}_pkey" PRIMARY KEY ("sid"))`,
    )
    await pool.query(`CREATE INDEX "${table}_expire" ON "${table}" ("expire")`)
    const store = new PgStore({ pool, tableName: table })
    const cookie = await expressLogin(store, 'pg-secret')
    const foreign = sqlForeignStore({ client: pgClient(pool), table })
    const adopter = expressSessionAdopter({ secret: 'pg-secret', store: foreign })
    await pool.query(`UPDATE "${table}" SET expire = now() - interval '1 minute'`)
    expect(await adopter.read(cookie)).toBeNull()
    await pool.query(`UPDATE "${table}" SET expire = now() + interval '1 day'`)
    await expectAdopted(adopter, cookie, foreign)
    store.close()
  })
})

const memcachedUp = await serviceAvailable('memcached')
describe.skipIf(!memcachedUp)('adopting express-session sessions from connect-memcached', () => {
  const client = createMemcachedClient({ servers: SERVICE_URLS.memcached.split(',') })
  afterAll(() => client.close())

  it('reads the item and deletes it on retire', async () => {
    const MemcachedStore = connectMemcached(expressSession)
    const prefix = `${unique('mc')}:`
    const store = new MemcachedStore({ hosts: SERVICE_URLS.memcached.split(','), prefix })
    const cookie = await expressLogin(store, 'mc-secret')
    const foreign = memcachedForeignStore({ client, prefix })
    await expectAdopted(expressSessionAdopter({ secret: 'mc-secret', store: foreign }), cookie, foreign)
    ;(store as unknown as { client: { end(): void } }).client.end()
  })
})

describe('adopting koa-session cookie sessions', () => {
  async function koaLogin(keys: string[]): Promise<string> {
    const app = new Koa()
    app.keys = keys
    app.use(koaSession({ maxAge: DAY }, app))
    app.use((ctx) => {
      ctx.session!.passport = { user: 'u42' }
      ctx.session!.cart = [1, 2, 3]
      ctx.body = { ok: true }
    })
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const answer = await fetch(`http://127.0.0.1:${port}/`)
      return cookieHeader(answer.headers.getSetCookie())
    } finally {
      server.close()
    }
  }

  it('verifies the keygrip signature, strips koa-session bookkeeping, clears both cookies', async () => {
    const cookie = await koaLogin(['koa-old-key'])
    const adopter = koaSessionAdopter({ keys: ['koa-new-key', 'koa-old-key'] })
    expect(await koaSessionAdopter({ keys: ['other'] }).read(cookie)).toBeNull()
    expect(await adopter.read(tampered(cookie))).toBeNull()
    expect(await adopter.read(cookie.replace(/koa\.sess\.sig=[^;]*(; )?/, ''))).toBeNull()
    const later = koaSessionAdopter({ keys: ['koa-old-key'], now: () => Date.now() + 2 * DAY })
    expect(await later.read(cookie)).toBeNull()
    const found = await adopter.read(cookie)
    expect(found!.clearCookies).toEqual(['koa.sess', 'koa.sess.sig'])
    await expectAdopted(adopter, cookie, null)
  })

  it('answers null, never throws, for malformed cookies', async () => {
    const adopter = koaSessionAdopter({ keys: ['k'], signed: false })
    for (const bad of [
      'koa.sess=%%%',
      'koa.sess=bm90IGpzb24=',
      'koa.sess=WzEsMl0=',
      'koa.sess=',
      'other=1',
    ]) {
      expect(await adopter.read(bad)).toBeNull()
    }
  })
})

describe("the peers' HMACs on Node's crypto and on Web Crypto", () => {
  it('give the same base64 on both paths, for both hashes', async () => {
    expect(nativeModules).not.toBeNull()
    for (const hash of ['SHA-256', 'SHA-1'] as const) {
      const [node] = hmacSigners(['secret-é'], hash, nativeModules!.crypto)
      const [web] = hmacSigners(['secret-é'], hash, null)
      for (const value of ['', 's:abc', 'é€😀', 'a\ud800b', 'k'.repeat(5000)])
        expect(await node!(value), `${hash} ${value.slice(0, 10)}`).toBe(await web!(value))
    }
  })
})

describe('adopter options', () => {
  it('refuse a missing secret or key list at startup, naming the option', () => {
    const store = { get: async () => null, destroy: async () => {} }
    expect(() => expressSessionAdopter({ secret: '', store })).toThrow(
      /adopt\/express-session.*option "secret"/,
    )
    expect(() => koaSessionAdopter({ keys: [] })).toThrow(/adopt\/koa-session.*option "keys"/)
  })
})

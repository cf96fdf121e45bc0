// The increment race (issue 16): INCREMENTS increments of one key of ONE session from WORKERS
// concurrent requests spread over APPS session managers (as APPS app processes would be), per
// backend, three ways: sessionbridge `session.update()`, sessionbridge plain get + set, and the
// peers' way (express-session's store API: get the whole record, change it, set it whole; on
// connect-redis where Redis is up; and @fastify/session on connect-redis end to end over HTTP,
// same-key-fastify.ts). Reports lost updates, requests answered 409, increments/s (and update's
// as a share of get + set's), store round trips per increment, the longest request and this
// process's CPU per increment, measured after a warm-up race of a quarter as many increments on
// the same managers. Run: cd bench && npx tsx src/same-key.ts   (prints markdown;
// SAME_KEY_STORES=rest-sessions,Redis runs only those stores)
// Uses unique key prefixes / tables and removes them.
import {
  createSessionManager,
  memoryBackend,
  type SessionBackend,
  SessionConflictError,
  type SessionManager,
} from '@sessionbridge/core'
import { randomString } from '@sessionbridge/core/adapter'
import {
  createMemcachedClient,
  type MemcachedClientAdapter,
  memcachedBackend,
} from '@sessionbridge/memcached'
import { nodeRedisAdapter, type RedisCommands, redisBackend } from '@sessionbridge/redis'
import { migrate, mysqlClient, pgClient, type SqlClient, sqlBackend, sqliteClient } from '@sessionbridge/sql'
import Database from 'better-sqlite3'
import { RedisStore } from 'connect-redis'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createClient } from 'redis'
import { countedStore, fastifySessionRace } from './same-key-fastify.ts'
import { openRestSessions } from './same-key-rest.ts'

const INCREMENTS = Number(process.env.SAME_KEY_INCREMENTS ?? 5000)
// Comma-separated store names to run (e.g. `rest-sessions,Redis`); all by default.
const ONLY = process.env.SAME_KEY_STORES?.split(',').map((name) => name.trim().toLowerCase())
const WORKERS = Number(process.env.SAME_KEY_WORKERS ?? 32)
const WARM_SECONDS = 1
const MEASURE_SECONDS = 2
// Each simulated app has its own backend object, as separate processes would: their updates of one
// key meet only in the store (within one process, one backend object queues them).
const APPS = 4
const tag = `sbb_${randomString(8, 'abcdefghijklmnopqrstuvwxyz')}`
const HOUR = 3_600_000

interface Counted {
  /** A new backend object over the same store and client: one per simulated app process. */
  backend: () => SessionBackend
  calls: () => number
  close(): Promise<void>
}

const countRedis = (commands: RedisCommands, counter: { n: number }): RedisCommands => ({
  send: (key, args) => {
    counter.n++
    return commands.send(key, args)
  },
})
const countSql = (client: SqlClient, counter: { n: number }): SqlClient => {
  const wrap = (c: SqlClient): SqlClient => ({
    dialect: c.dialect,
    query: (sql, params) => {
      counter.n++
      return c.query(sql, params)
    },
    transaction: (fn) => {
      counter.n += 2 // BEGIN and COMMIT
      return c.transaction((tx) => fn(wrap(tx)))
    },
  })
  return wrap(client)
}
const countMemcached = (client: MemcachedClientAdapter, counter: { n: number }): MemcachedClientAdapter => ({
  get: (k, o) => {
    counter.n++
    return client.get(k, o)
  },
  set: (k, v, o) => {
    counter.n++
    return client.set(k, v, o)
  },
  delete: (k, o) => {
    counter.n++
    return client.delete(k, o)
  },
  touch: (k, e) => {
    counter.n++
    return client.touch(k, e)
  },
})

async function backends(): Promise<Array<[string, () => Promise<Counted | null>]>> {
  const list: Array<[string, () => Promise<Counted | null>]> = []
  list.push([
    'memory',
    async () => {
      const storage = new Map()
      return { backend: () => memoryBackend({ storage }), calls: () => 0, close: async () => {} }
    },
  ])
  list.push([
    'Redis',
    async () => {
      const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
      client.on('error', () => {})
      await client.connect()
      const counter = { n: 0 }
      const commands = countRedis(nodeRedisAdapter(client), counter)
      const backend = () => redisBackend({ client: commands, prefix: `${tag}:` })
      return { backend, calls: () => counter.n, close: async () => void client.destroy() }
    },
  ])
  list.push([
    'memcached',
    async () => {
      const client = createMemcachedClient({ servers: [process.env.SB_BENCH_MEMCACHED ?? '127.0.0.1:11211'] })
      const counter = { n: 0 }
      const counting = countMemcached(client, counter)
      const backend = () => memcachedBackend({ client: counting, prefix: `${tag}:` })
      return { backend, calls: () => counter.n, close: () => client.close() }
    },
  ])
  const sql = (name: string, open: () => Promise<{ client: SqlClient; end(): Promise<void> }>) =>
    list.push([
      name,
      async () => {
        const { client, end } = await open()
        await migrate(client, { layout: 'native', table: tag })
        const counter = { n: 0 }
        const counting = countSql(client, counter)
        const backend = () => sqlBackend({ client: counting, layout: 'native', table: tag })
        return {
          backend,
          calls: () => counter.n,
          close: async () => {
            await client.query(`DROP TABLE ${tag}`)
            await end()
          },
        }
      },
    ])
  sql('PostgreSQL', async () => {
    const pool = new pg.Pool({
      connectionString: process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      max: 10,
    })
    pool.on('error', () => {})
    return { client: pgClient(pool), end: () => pool.end() }
  })
  sql('MariaDB', async () => {
    const pool = mysql.createPool({
      uri: process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/mysql',
      connectionLimit: 10,
    })
    return { client: mysqlClient(pool), end: () => pool.end() }
  })
  list.push(['rest-sessions', () => openRestSessions(tag)])
  sql('SQLite', async () => {
    const db = new Database(':memory:')
    return {
      client: sqliteClient(db),
      end: async () => {
        db.close()
      },
    }
  })
  return list
}

type Mode = 'update' | 'get+set'

interface RaceResult {
  increments: number
  lost: number
  conflicts: number
  perSecond: number
  roundTrips: number
  longestMs: number
  cpuMicros: number
}

/** WORKERS concurrent requests until INCREMENTS were made, after a warm-up race on the same managers. */
async function race(counted: Counted, mode: Mode): Promise<RaceResult> {
  const managers = Array.from({ length: APPS }, () =>
    createSessionManager<{ count: number }>({ backend: counted.backend() }),
  )
  // Warm up (JIT, connections, caches) for at least WARM_SECONDS, then measure at least INCREMENTS
  // increments and at least MEASURE_SECONDS' worth at the warm rate: a fast store's few thousand
  // increments would otherwise measure code V8 has not optimized yet.
  const warmStart = performance.now()
  let warm: RaceResult
  do warm = await raceOn(managers, counted, mode, Math.ceil(INCREMENTS / 4))
  while (performance.now() - warmStart < WARM_SECONDS * 1000)
  return raceOn(managers, counted, mode, Math.max(INCREMENTS, Math.round(warm.perSecond * MEASURE_SECONDS)))
}

/** One race on a new session; each request opens the session by cookie. */
async function raceOn(
  managers: SessionManager<{ count: number }>[],
  counted: Counted,
  mode: Mode,
  increments: number,
): Promise<RaceResult> {
  const first = await managers[0]!.open({ protocol: 'https' })
  first.set('count', 0)
  const cookie = (await first.commit()).setCookie!.split(';')[0]!
  const before = counted.calls()
  let started = 0
  let conflicts = 0
  let longestMs = 0
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      while (started < increments) {
        started++
        const begun = performance.now()
        const session = await managers[w % APPS]!.open({ cookie, protocol: 'https' })
        try {
          if (mode === 'update') await session.update('count', (n) => (n ?? 0) + 1)
          else session.set('count', ((await session.get('count')) ?? 0) + 1)
          await session.commit()
        } catch (error) {
          if (!(error instanceof SessionConflictError)) throw error
          conflicts++ // answered 409: the client knows, nothing was lost silently
        }
        longestMs = Math.max(longestMs, performance.now() - begun)
      }
    }),
  )
  const seconds = (performance.now() - t0) / 1000
  const used = process.cpuUsage(cpu)
  const check = await managers[0]!.open({ cookie, protocol: 'https' })
  const stored = (await check.get('count')) ?? 0
  const succeeded = increments - conflicts
  return {
    increments,
    lost: succeeded - stored,
    conflicts,
    perSecond: Math.round(increments / seconds),
    roundTrips: (counted.calls() - before) / increments,
    longestMs,
    cpuMicros: (used.user + used.system) / increments,
  }
}

/** express-session's way on connect-redis: get the record, count++, set it whole. */
async function peerConnectRedis() {
  const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
  client.on('error', () => {})
  await client.connect()
  const calls = { n: 0 }
  const store = countedStore(new RedisStore({ client, prefix: `${tag}:peer:` }), calls)
  const get = (sid: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      store.get(sid, (e, s) => (e ? reject(e) : resolve((s ?? {}) as Record<string, unknown>))),
    )
  const set = (sid: string, s: Record<string, unknown>) =>
    new Promise<void>((resolve, reject) => store.set(sid, s as never, (e) => (e ? reject(e) : resolve())))
  const sid = randomString(32, 'abcdefghijklmnopqrstuvwxyz0123456789')
  await set(sid, { cookie: { originalMaxAge: HOUR }, count: 0 })
  let started = 0
  const before = calls.n
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (started < INCREMENTS) {
        started++
        const s = await get(sid)
        s.count = (s.count as number) + 1
        await set(sid, s)
      }
    }),
  )
  const seconds = (performance.now() - t0) / 1000
  const roundTrips = (calls.n - before) / INCREMENTS
  const stored = (await get(sid)).count as number
  await new Promise((resolve) => store.destroy(sid, resolve))
  client.destroy()
  return {
    lost: INCREMENTS - stored,
    conflicts: 0,
    perSecond: Math.round(INCREMENTS / seconds),
    roundTrips,
  }
}

const rows: string[] = [
  `Increment race: increments of one key of one session (at least ${INCREMENTS}, and ${MEASURE_SECONDS} s at the warm rate), ${WORKERS} concurrent requests over ${APPS} session managers (as ${APPS} app processes), after ${WARM_SECONDS} s of warm-up races.`,
  '',
  '| store | way | increments | lost updates | answered 409 | increments/s | of get + set | store round trips per increment | longest request (ms) | CPU per increment, this process (µs) |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
]
const WAYS = { update: 'sessionbridge `session.update()`', 'get+set': 'sessionbridge get + set' } as const
/** Issue 22, goal 4: per store, `update`'s rate over get + set's, and what it lost or refused. */
const goal: Array<{ store: string; ratio: number; lost: number; conflicts: number }> = []
for (const [name, open] of await backends()) {
  if (ONLY && !ONLY.includes(name.toLowerCase())) continue
  const measured = new Map<Mode, RaceResult | string>()
  for (const mode of ['update', 'get+set'] as const) {
    let counted: Counted | null = null
    try {
      counted = await open()
      if (!counted) continue
      measured.set(mode, await race(counted, mode))
    } catch (error) {
      measured.set(mode, `not measured: ${(error as Error).message.split('\n')[0]}`)
    } finally {
      await counted?.close().catch(() => {})
    }
  }
  const plain = measured.get('get+set')
  for (const [mode, r] of measured) {
    if (typeof r === 'string') {
      rows.push(`| ${name} | ${WAYS[mode]} | ${r} | | | | | | | |`)
      continue
    }
    const ratio = mode === 'update' && typeof plain === 'object' ? r.perSecond / plain.perSecond : null
    const share = ratio === null ? '' : ratio.toFixed(2)
    if (ratio !== null) goal.push({ store: name, ratio, lost: r.lost, conflicts: r.conflicts })
    const trips = name === 'memory' ? '0' : r.roundTrips.toFixed(2)
    rows.push(
      `| ${name} | ${WAYS[mode]} | ${r.increments} | ${r.lost} | ${r.conflicts} | ${r.perSecond} | ${share} | ${trips} | ${r.longestMs.toFixed(0)} | ${r.cpuMicros.toFixed(0)} |`,
    )
  }
}
if (!ONLY || ONLY.includes('redis')) {
  try {
    const r = await peerConnectRedis()
    rows.push(
      `| Redis | peer: express-session's get + whole set (connect-redis 9) | ${INCREMENTS} | ${r.lost} | 0 | ${r.perSecond} | | ${r.roundTrips.toFixed(2)} | | |`,
    )
  } catch (error) {
    rows.push(`| Redis | peer: connect-redis | not measured: ${(error as Error).message} | | | | | | | |`)
  }
  try {
    const r = await fastifySessionRace({
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix: `${tag}:fastify:`,
      increments: INCREMENTS,
      workers: WORKERS,
      apps: APPS,
    })
    rows.push(
      `| Redis | peer: @fastify/session 11 on connect-redis 9, over HTTP (${APPS} Fastify instances) | ${INCREMENTS} | ${r.lost} | 0 | ${r.perSecond} | | ${r.roundTrips.toFixed(2)} | | |`,
    )
  } catch (error) {
    rows.push(`| Redis | peer: @fastify/session | not measured: ${(error as Error).message} | | | | | | | |`)
  }
}
if (goal.length > 0) {
  const met = goal.filter((g) => g.ratio >= 0.8 && g.lost === 0)
  const missed = goal.filter((g) => !met.includes(g))
  const describe = (g: (typeof goal)[number]) =>
    `${g.store} ${g.ratio.toFixed(2)}${g.lost > 0 ? `, ${g.lost} lost` : ''}${g.conflicts > 0 ? `, ${g.conflicts} answered 409` : ''}`
  rows.push(
    '',
    'Issue 22, goal 4 (the same-key update at >= 0.8 of a plain write, 0 lost), this run:',
    `- met: ${met.map(describe).join('; ') || 'none'}`,
    `- not met: ${missed.map(describe).join('; ') || 'none'}`,
  )
}
console.log(rows.join('\n'))

// Load and save through the Redis backend, beside a raw client doing the same round trips (GET for a
// load, GET + SET for a write request), which is the limit. Both client libraries, one at a time (in
// flight) and 64 at a time. Backend and raw runs alternate in short rounds and the median round
// counts, so a machine whose load drifts skews both sides alike. Run: cd bench && npx tsx src/redis.ts
// Uses its own key prefix on the Redis at REDIS_URL (default 127.0.0.1:6379) and deletes its keys.
import { randomString } from '@sessionbridge/core/adapter'
import { ioredisAdapter, nodeRedisAdapter, type RedisCommands, redisBackend } from '@sessionbridge/redis'
import { Redis } from 'ioredis'
import { createClient } from 'redis'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const prefix = `sbb:redis:${randomString(8, 'abcdefghijklmnopqrstuvwxyz')}:`
const HOUR = 3_600_000
const CONCURRENCY = 64
const ROUNDS = 7

// A typical logged-in session: Django's auth keys, bookkeeping, a few app values.
const data: Record<string, unknown> = {
  _auth_user_id: '42',
  _auth_user_backend: 'django.contrib.auth.backends.ModelBackend',
  _auth_user_hash: 'c0ffee'.repeat(10),
  _sb_created: Math.floor(Date.now() / 1000),
  theme: 'dark',
  cart: [
    { sku: 'A-1', qty: 2 },
    { sku: 'B-7', qty: 1 },
  ],
  count: 0,
}

async function openClients(): Promise<{ name: string; commands: RedisCommands; close(): Promise<void> }[]> {
  const node = createClient({ url })
  await node.connect()
  const io = new Redis(url)
  await io.ping()
  return [
    { name: 'node-redis', commands: nodeRedisAdapter(node), close: async () => void node.destroy() },
    { name: 'ioredis', commands: ioredisAdapter(io), close: async () => io.disconnect() },
  ]
}

/** Operations per second with `inFlight` calls running at once, for `ms` milliseconds. */
async function throughput(fn: () => Promise<unknown>, inFlight: number, ms = 400): Promise<number> {
  const end = performance.now() + ms
  let done = 0
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await fn()
        done++
      }
    }),
  )
  return done / (ms / 1000)
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!

/** Median ops/s of backend and raw over `ROUNDS` alternating rounds, after a warm-up. */
async function compare(viaBackend: () => Promise<unknown>, raw: () => Promise<unknown>, inFlight: number) {
  await throughput(viaBackend, inFlight, 200)
  await throughput(raw, inFlight, 200)
  const b: number[] = []
  const r: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    b.push(await throughput(viaBackend, inFlight))
    r.push(await throughput(raw, inFlight))
  }
  return { backend: Math.round(median(b)), raw: Math.round(median(r)) }
}

const clients = await openClients()
const rows: Record<string, string | number>[] = []
try {
  for (const { name, commands } of clients) {
    const backend = redisBackend({ client: commands, prefix })
    const id = (await backend.create(backend.idFormat.generate(), {
      data,
      expiresAt: Date.now() + HOUR,
      userId: '42',
    }))!
    const rawKey = `${prefix}raw:${name}`
    const hashKey = `${prefix}${id}`
    await commands.send(rawKey, ['SET', rawKey, JSON.stringify(data), 'PX', String(HOUR)])
    let n = 0

    const scenarios: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      ['load (raw: GET)', () => backend.load(id), () => commands.send(rawKey, ['GET', rawKey])],
      // The same load against a raw HGETALL of the session's own hash: what the layout costs vs the code.
      ['load (raw: HGETALL)', () => backend.load(id), () => commands.send(hashKey, ['HGETALL', hashKey])],
      [
        'write request (load + save; raw: GET + SET)',
        async () => {
          const record = (await backend.load(id))!
          const count = ++n
          await backend.save(
            id,
            { set: { count }, deleted: [] },
            { ...record, data: { ...record.data, count } },
          )
        },
        async () => {
          const stored = JSON.parse((await commands.send(rawKey, ['GET', rawKey])) as string) as Record<
            string,
            unknown
          >
          stored.count = ++n
          await commands.send(rawKey, ['SET', rawKey, JSON.stringify(stored), 'PX', String(HOUR)])
        },
      ],
    ]

    for (const [scenario, viaBackend, raw] of scenarios) {
      const one = await compare(viaBackend, raw, 1)
      const many = await compare(viaBackend, raw, CONCURRENCY)
      rows.push({
        client: name,
        scenario,
        'backend ops/s (1 in flight)': one.backend,
        'raw ops/s (1 in flight)': one.raw,
        'ratio 1': `${((one.backend / one.raw) * 100).toFixed(0)}%`,
        [`backend ops/s (${CONCURRENCY} in flight)`]: many.backend,
        [`raw ops/s (${CONCURRENCY} in flight)`]: many.raw,
        [`ratio ${CONCURRENCY}`]: `${((many.backend / many.raw) * 100).toFixed(0)}%`,
      })
    }
    await backend.destroy(id)
    await commands.send(rawKey, ['DEL', rawKey])
  }
} finally {
  for (const c of clients) await c.close()
}
console.table(rows)
console.log(`node ${process.version}, redis at ${url}, ${new Date().toISOString()}`)

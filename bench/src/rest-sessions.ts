// rest-sessions: load/save per second through each transport, against the server in its own
// process, beside raw Redis GET/SET (one per request, same concurrency) as the upper limit.
// Run: cd /work/main/bench && npx tsx src/rest-sessions.ts
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer as createTcpServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { fetchTransport, restSessionsBackend, type Transport } from '@sessionbridge/rest-sessions'
import { undiciTransport } from '@sessionbridge/rest-sessions/undici'
import { createClient } from 'redis'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32)
const SESSIONS = 200
const namespace = `sbt-rs-bench-${randomBytes(4).toString('hex')}`

async function freePort(): Promise<number> {
  const probe = createTcpServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** Runs `op` from CONCURRENCY workers for SECONDS; answers operations per second. */
async function rate(op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await op(i) // warm-up
  let done = 0
  const end = performance.now() + SECONDS * 1000
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      for (let i = w; performance.now() < end; i += CONCURRENCY) {
        await op(i)
        done++
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

const port = await freePort()
const bin = fileURLToPath(
  new URL('../../packages/rest-sessions-server/bin/rest-sessions-server.mjs', import.meta.url),
)
const server = spawn(process.execPath, [bin], {
  env: { ...process.env, RS_PORT: String(port), RS_NAMESPACE: namespace, RS_LOGLEVEL: 'none' },
  stdio: 'ignore',
})
const url = `http://127.0.0.1:${port}`
const redis = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
await redis.connect()

try {
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/ping`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const results: Array<[string, number]> = []
  const raw = (i: number) => `${namespace}:raw:${i % SESSIONS}`
  const payload = JSON.stringify({ _auth_user_id: '42', cart: 'x'.repeat(200), n: 1 })
  for (let i = 0; i < SESSIONS; i++) await redis.set(raw(i), payload)
  results.push(['raw Redis GET', await rate((i) => redis.get(raw(i)))])
  results.push(['raw Redis SET', await rate((i) => redis.set(raw(i), payload))])

  const transports: Array<[string, () => Transport]> = [
    ['fetch', () => fetchTransport()],
    ['undici', () => undiciTransport({ connections: CONCURRENCY })],
  ]
  for (const [name, make] of transports) {
    const backend = restSessionsBackend({ url, app: 'bench', transport: make() })
    const ids: string[] = []
    const record = {
      data: { _auth_user_id: '42', cart: 'x'.repeat(200), n: 1 },
      expiresAt: Date.now() + 3_600_000,
      userId: '42',
    }
    for (let i = 0; i < SESSIONS; i++) ids.push((await backend.create('x', record))!)
    results.push([`load via ${name}`, await rate((i) => backend.load(ids[i % SESSIONS]!))])
    results.push([
      `save via ${name}`,
      await rate((i) => backend.save(ids[i % SESSIONS]!, { set: { n: i }, deleted: [] }, record)),
    ])
    await backend.close?.()
  }

  const limit = (op: string) => results.find(([label]) => label === `raw Redis ${op}`)![1]
  console.log(
    `rest-sessions bench: ${SECONDS}s per row, ${CONCURRENCY} in flight, ${SESSIONS} sessions, Node ${process.version}`,
  )
  console.log('| operation | ops/s | vs raw Redis (GET for load, SET for save) |')
  console.log('|---|---:|---:|')
  for (const [label, value] of results) {
    const base = label.startsWith('load') ? limit('GET') : label.startsWith('save') ? limit('SET') : value
    console.log(`| ${label} | ${Math.round(value)} | ${(value / base).toFixed(3)} |`)
  }
} finally {
  server.kill('SIGTERM')
  for await (const keys of redis.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
    if (keys.length > 0) await redis.del(keys)
  }
  await redis.close()
}

/**
 * Soak: each framework, in its own process, serves a fixed request rate for a bounded time on one
 * backend; memory (heap and RSS, after a forced GC) is compared between the end of the warm-up and
 * the end of the run, and event-loop delay is measured. Exits non-zero when growth passes the bound
 * or any request failed.
 *
 *   pnpm --filter @sessionbridge/reliability soak [--duration 300] [--rate 200] [--backend memory|redis]
 *       [--frameworks fastify,koa,hono] [--heap-bound-mb 16] [--rss-bound-mb 64]
 */
import { spawn } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { memoryBackend, type SessionBackend } from '@sessionbridge/core'
import { nodeRedisAdapter, redisBackend } from '@sessionbridge/redis'
import { SERVICE_URLS } from '@sessionbridge/test-services'
import { createClient } from 'redis'
import { type AppUnderTest, buildApp, FRAMEWORKS, type FrameworkName, sessionCookie } from './apps.ts'
import { relPrefix } from './services.ts'
import { basic, fixtureUsers, PASSWORD } from './users.ts'

/** What one framework's run measured. */
export interface SoakResult {
  framework: FrameworkName
  backend: string
  seconds: number
  requests: number
  rate: number
  failures: number
  /** Requests not started because too many were already in flight (the app fell behind). */
  skipped: number
  heapStartMb: number
  heapEndMb: number
  rssStartMb: number
  rssEndMb: number
  eldP50Ms: number
  eldP99Ms: number
  eldMaxMs: number
}

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    rate: { type: 'string', default: '200' },
    backend: { type: 'string', default: 'memory' },
    frameworks: { type: 'string', default: FRAMEWORKS.join(',') },
    'heap-bound-mb': { type: 'string', default: '16' },
    'rss-bound-mb': { type: 'string', default: '64' },
    child: { type: 'string' },
  },
})

const MB = 1024 * 1024
/** The histogram counts the sampling interval too; it is taken off the figures reported. */
const ELD_RESOLUTION_MS = 1
const eldMs = (ns: number) => round(Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS))
const round = (n: number) => Math.round(n * 10) / 10
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const collect = () => (globalThis as { gc?: () => void }).gc?.()

async function openBackend(name: string): Promise<{ backend: SessionBackend; close(): Promise<void> }> {
  if (name === 'memory') return { backend: memoryBackend(), close: async () => {} }
  if (name !== 'redis') throw new Error(`--backend must be memory or redis, not ${name}`)
  const client = createClient({ url: SERVICE_URLS.redis })
  client.on('error', () => {})
  await client.connect()
  const prefix = relPrefix('soak')
  return {
    backend: redisBackend({ client: nodeRedisAdapter(client), prefix, logger: { warn() {} } }),
    async close() {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
        if (keys.length) await client.unlink(keys)
      }
      client.destroy()
    },
  }
}

/**
 * One request of the mix, over a fixed pool of users: reads (60%), writes to one of a few keys
 * (25%), logout and a fresh session in its place (10%), a Basic-guarded page (5%). The pool keeps
 * the number of live sessions constant, so memory growth means a leak, not more data.
 */
async function step(app: AppUnderTest, pool: string[]): Promise<boolean> {
  const slot = Math.floor(Math.random() * pool.length)
  const cookie = pool[slot]!
  const dice = Math.random()
  let status: number
  if (dice < 0.6) status = (await app.call({ path: '/read', cookie })).status
  else if (dice < 0.85) {
    const key = `k${Math.floor(Math.random() * 5)}`
    status = (await app.call({ method: 'POST', path: `/write/${key}/${Date.now()}`, cookie })).status
  } else if (dice < 0.95) {
    status = (await app.call({ method: 'POST', path: '/logout', cookie })).status
    const fresh = await app.call({ method: 'POST', path: '/write/k0/new' })
    pool[slot] = sessionCookie(fresh.setCookies) ?? cookie
    status = Math.max(status, fresh.status)
  } else {
    status = (await app.call({ path: '/guarded', headers: { authorization: basic('alice', PASSWORD) } }))
      .status
  }
  return status < 500
}

/** The child: one framework, one backend, a fixed rate. Prints its result as JSON. */
async function runChild(framework: FrameworkName): Promise<void> {
  const seconds = Number(args.duration)
  const rate = Number(args.rate)
  const warmup = Math.min(30, Math.max(2, seconds * 0.2))
  const opened = await openBackend(args.backend!)
  const app = await buildApp(framework, {
    backend: opened.backend,
    users: fixtureUsers(1),
    logger: { warn() {} },
  })
  const pool: string[] = []
  for (let i = 0; i < 200; i++) {
    pool.push(sessionCookie((await app.call({ method: 'POST', path: '/write/k0/seed' })).setCookies)!)
  }

  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
  const maxInFlight = 64
  let inFlight = 0
  let requests = 0
  let failures = 0
  let skipped = 0
  let heapStart = 0
  let rssStart = 0
  const started = performance.now()
  const tickMs = 10
  let issued = 0
  let warmed = false
  while (performance.now() - started < seconds * 1000) {
    const elapsed = (performance.now() - started) / 1000
    if (!warmed && elapsed >= warmup) {
      // Let in-flight requests finish so the sample is not inflated by them.
      while (inFlight > 0) await sleep(1)
      collect()
      heapStart = process.memoryUsage().heapUsed
      rssStart = process.memoryUsage().rss
      eld.enable()
      warmed = true
    }
    // Fixed rate against the clock, not per tick: late timers do not lower the rate.
    const due = Math.floor(rate * ((performance.now() - started) / 1000)) - issued
    for (let i = 0; i < due; i++) {
      issued++
      if (inFlight >= maxInFlight) {
        skipped++
        continue
      }
      inFlight++
      requests++
      step(app, pool)
        .then((ok) => {
          if (!ok) failures++
        })
        .catch(() => {
          failures++
        })
        .finally(() => {
          inFlight--
        })
    }
    await sleep(tickMs)
  }
  while (inFlight > 0) await sleep(5)
  eld.disable()
  collect()
  const end = process.memoryUsage()
  await app.close()
  await opened.close()
  const result: SoakResult = {
    framework,
    backend: args.backend!,
    seconds,
    requests,
    rate: round(requests / seconds),
    failures,
    skipped,
    heapStartMb: round(heapStart / MB),
    heapEndMb: round(end.heapUsed / MB),
    rssStartMb: round(rssStart / MB),
    rssEndMb: round(end.rss / MB),
    eldP50Ms: eldMs(eld.percentile(50)),
    eldP99Ms: eldMs(eld.percentile(99)),
    eldMaxMs: eldMs(eld.max),
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

/** The parent: one child process per framework, in parallel, then the verdict. */
async function runAll(): Promise<number> {
  const frameworks = args.frameworks!.split(',').map((f) => f.trim()) as FrameworkName[]
  for (const f of frameworks) if (!FRAMEWORKS.includes(f)) throw new Error(`unknown framework ${f}`)
  const heapBound = Number(args['heap-bound-mb'])
  const rssBound = Number(args['rss-bound-mb'])
  const self = fileURLToPath(import.meta.url)
  console.log(
    `soak: ${frameworks.join(', ')} on ${args.backend}, ${args.duration} s at ${args.rate} req/s each; ` +
      `bounds after warm-up: heap +${heapBound} MiB, RSS +${rssBound} MiB, no failed request`,
  )
  const results = await Promise.all(
    frameworks.map(
      (framework) =>
        new Promise<SoakResult>((resolve, reject) => {
          const forwarded = ['--duration', args.duration!, '--rate', args.rate!, '--backend', args.backend!]
          const child = spawn(
            process.execPath,
            ['--expose-gc', ...process.execArgv, self, '--child', framework, ...forwarded],
            { stdio: ['ignore', 'pipe', 'inherit'] },
          )
          let out = ''
          child.stdout.on('data', (chunk) => {
            out += chunk
          })
          child.once('error', reject)
          child.once('exit', (code) => {
            const line = out.trim().split('\n').pop() ?? ''
            if (code !== 0 || !line.startsWith('{'))
              reject(new Error(`${framework} soak exited with ${code}: ${out}`))
            else resolve(JSON.parse(line) as SoakResult)
          })
        }),
    ),
  )
  let failed = false
  console.log(
    'framework | requests | req/s | failed | skipped | heap MiB (warm -> end) | RSS MiB (warm -> end) | ELD p50/p99/max ms',
  )
  for (const r of results) {
    const heapGrowth = r.heapEndMb - r.heapStartMb
    const rssGrowth = r.rssEndMb - r.rssStartMb
    const ok = heapGrowth <= heapBound && rssGrowth <= rssBound && r.failures === 0
    failed ||= !ok
    console.log(
      `${r.framework} | ${r.requests} | ${r.rate} | ${r.failures} | ${r.skipped} | ` +
        `${r.heapStartMb} -> ${r.heapEndMb} (${heapGrowth >= 0 ? '+' : ''}${round(heapGrowth)}) | ` +
        `${r.rssStartMb} -> ${r.rssEndMb} (${rssGrowth >= 0 ? '+' : ''}${round(rssGrowth)}) | ` +
        `${r.eldP50Ms}/${r.eldP99Ms}/${r.eldMaxMs} | ${ok ? 'ok' : 'FAIL'}`,
    )
  }
  console.log(failed ? 'soak: FAILED' : 'soak: passed')
  return failed ? 1 : 0
}

if (args.child) {
  await runChild(args.child as FrameworkName)
} else {
  process.exitCode = await runAll()
}

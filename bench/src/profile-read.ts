// CPU per request of one scenario of one sessionbridge server, in-process, and its CPU profile over
// the measured window only: `PROFILE_OUT=read.cpuprofile node --conditions=@sessionbridge/source
// --import tsx src/profile-read.ts [framework] [store] [path]`; wrk drives it for BENCH_SECONDS
// (default 5) over 256 seeded sessions. PROFILE_INTERVAL: the sampling interval, µs (default 100;
// 500 - 1000 disturbs the server less over long runs).
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startApp } from './compare/apps.ts'
import type { Framework, Layer } from './compare/layers.ts'
import type { StoreName } from './compare/stores.ts'

const [framework = 'fastify', store = 'memory', path = '/read'] = process.argv.slice(2)
const counter = { calls: 0 }
// `bare`, `middleware` (bare + an empty middleware), a store name, or `limit:<store>` for that store's limit row
const layer: Layer =
  store === 'bare' || store === 'middleware'
    ? { kind: store }
    : store.startsWith('limit:')
      ? { kind: 'limit', store: store.slice(6) as StoreName }
      : { kind: 'sessionbridge', store: store as StoreName }
const server = await startApp(framework as Framework, [{ prefix: '', layer }], counter)
const base = `http://127.0.0.1:${server.port}`
const cookies: string[] = []
for (let i = 0; i < 256; i++) {
  const response = await fetch(`${base}/seed`)
  cookies.push(
    response.headers
      .getSetCookie()
      .map((h) => h.split(';')[0])
      .join('; ') || 'none=1',
  )
}
const script = join(tmpdir(), `sb-profile-${process.pid}.lua`)
writeFileSync(
  script,
  // NO_COOKIE=1: requests without a Cookie header (the no-cookie scenario)
  process.env.NO_COOKIE === '1'
    ? ''
    : `local cookies = {\n${cookies.map((c) => JSON.stringify(c)).join(',\n')}\n}\nlocal i = 0\nrequest = function()\n  i = i % #cookies + 1\n  return wrk.format(nil, nil, { ["Cookie"] = cookies[i] })\nend\n`,
)
const seconds = process.env.BENCH_SECONDS ?? '5'
const run = (target: string, duration: string) =>
  promisify(execFile)('taskset', [
    '-c',
    process.env.WRK_CPU ?? '0',
    'wrk',
    '-t1',
    '-c32',
    `-d${duration}s`,
    '-s',
    script,
    `${base}${target}`,
  ])
// WARM=/read,/incr: drive these paths first (2 s each), as the bench's servers serve all three
for (const target of (process.env.WARM ?? '').split(',').filter(Boolean)) await run(target, '2')
const profiler = process.env.PROFILE_OUT ? new Session() : null
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    profiler?.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  )
if (profiler) {
  profiler.connect()
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: Number(process.env.PROFILE_INTERVAL ?? 100) })
  await post('Profiler.start')
}
// wrk on core 0 when the server runs pinned to core 1 (`taskset -c 1 node ...`); WRK_CPU=1 puts it
// beside the server (no cross-core wakeups, see the floor's BENCH_FLOOR_LOAD_CORE)
// REPEAT=n: n slices of BENCH_SECONDS each; the slice with the least CPU per request is reported
// (noise on a shared box only adds), with the others listed
let out = ''
let cpu = { user: 0, system: 0 }
let best = Number.POSITIVE_INFINITY
const slices: string[] = []
for (let i = 0; i < Number(process.env.REPEAT ?? 1); i++) {
  const start = process.cpuUsage()
  const { stdout } = await run(path, seconds)
  const used = process.cpuUsage(start)
  const perRequest = (used.user + used.system) / Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 1)
  slices.push(perRequest.toFixed(1))
  if (perRequest < best) {
    best = perRequest
    out = stdout
    cpu = used
  }
}
if (slices.length > 1) console.log(`slices: ${slices.join(' ')}`)
if (profiler && process.env.PROFILE_OUT) {
  const { profile } = (await post('Profiler.stop')) as { profile: object }
  writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile))
}
const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 1)
console.log(
  `${framework} ${store} ${path}: ${requests} requests, ${((cpu.user + cpu.system) / requests).toFixed(1)} µs CPU per request (user ${(cpu.user / requests).toFixed(1)})`,
)
await server.close()
process.exit(0)

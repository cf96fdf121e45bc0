// Instructions per HTTP request of one server process, counted by callgrind: CPU time per request
// swings by ±10% between slices on this 2-core box, more than most changes of ours weigh, and
// Express's 80 µs requests hide a 2 µs change entirely. The server (compare/server.ts, the bench's
// own apps) runs under `valgrind --tool=callgrind`, uninstrumented for WARM requests (long enough
// for V8 to finish optimizing), then `callgrind_control` switches counting on and zeroes the
// counters, N requests run (CONCURRENCY at a time, keep-alive, a fixed count), and a dump gives
// their instructions. A pause (SETTLE_MS) comes before the count, and a window in which V8's
// compiler threads still ran more than BUSY_OTHERS instructions a request, GC aside (a loaded
// machine: the main thread then runs code not yet optimized) is counted again after more warm-up.
// Printed per request: the main thread's (the figure to compare), the garbage collection among
// them, and the other threads' (V8's compiler and GC helpers, which swing with timing). Each point
// runs ROUNDS times (default 2) to show the spread.
//   node --import tsx src/http-instructions.ts express memory,middleware,bare [none|read|incr]
// The layers: `bare`, `middleware`, a store name (sessionbridge on it), `fetch:<store>` (Hono only:
// sessionbridge around `app.fetch`, `sessionFetch`) or `limit:<store>`; the
// scenario: `none` (no cookie, `GET /`), `read` or `incr` (256 seeded sessions in turn).
// KEEP=<dir> keeps each point's main-thread dump (with NAMES, V8's perf map beside it). NAMES=<n> also prints each point's n costliest
// functions (self instructions per request, JIT code named through V8's perf map, see
// callgrind-names.ts). CG_INSTR=1 dumps a count per instruction address (`--dump-instr=yes`): where
// inside one JIT function its instructions go, read against the perf map's code ranges. Needs valgrind (Debian package `valgrind`); about 40 seconds a point (WARM=20000, N=2000).
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { Agent, get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { callgrindNode, requireValgrind, threadCounts } from './callgrind.ts'
import { namedSelfCosts } from './callgrind-names.ts'
import type { Layer } from './compare/layers.ts'
import type { StoreName } from './compare/stores.ts'

const [framework = 'fastify', layerList = 'memory', scenario = 'read'] = process.argv.slice(2)
const warm = Number(process.env.WARM ?? 20000)
const n = Number(process.env.N ?? 2000)
const rounds = Number(process.env.ROUNDS ?? 2)
const concurrency = Number(process.env.CONCURRENCY ?? 8)
// KEEP=<dir>: keeps each point's main-thread dump there, for callgrind_annotate.
const keep = process.env.KEEP
if (keep) mkdirSync(keep, { recursive: true })
const names = Number(process.env.NAMES ?? 0)
// A pause before counting (ms), and the other threads' instructions a request, GC left out, above
// which a window is counted again (at most twice): quiet, they run 0.1 - 0.5k; beside other busy
// processes 11k. Their GC is left out: Express's helper threads collect 20 - 90k a request.
const settleMs = Number(process.env.SETTLE_MS ?? 1000)
const busyOthers = Number(process.env.BUSY_OTHERS ?? 2000)
if (!['none', 'read', 'incr'].includes(scenario))
  throw new Error('bench/http-instructions: the scenario is none, read or incr')
requireValgrind('http-instructions')

const serverScript = fileURLToPath(new URL('./compare/server.ts', import.meta.url))
const benchDir = fileURLToPath(new URL('..', import.meta.url))

function layerOf(name: string): Layer {
  if (name === 'bare' || name === 'middleware') return { kind: name }
  if (name.startsWith('limit:')) return { kind: 'limit', store: name.slice(6) as StoreName }
  if (name.startsWith('fetch:'))
    return { kind: 'sessionbridge', store: name.slice(6) as StoreName, integration: 'fetch' }
  return { kind: 'sessionbridge', store: name as StoreName }
}

/** Starts the server under callgrind; resolves with its port, pid and the dump's base path. */
function startServer(layer: Layer, dir: string) {
  const file = join(dir, 'cg.out')
  const mounts = JSON.stringify([{ prefix: '', layer }])
  const child = spawn(
    'valgrind',
    callgrindNode(file, serverScript, [framework, mounts], { instrumentFromStart: false }),
    {
      cwd: benchDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      // V8 writes /tmp/perf-<pid>.map, the names of the code it generates (for NAMES)
      env:
        names > 0
          ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --perf-basic-prof` }
          : process.env,
    },
  )
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const port = new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const ready = /READY (\d+)/.exec(out)
      if (ready) resolve(Number(ready[1]))
    })
    child.on('close', (code) =>
      reject(new Error(`bench/http-instructions: server exited ${code}: ${stderr}`)),
    )
  })
  return { child, port, file }
}

/** One GET over the keep-alive agent: its status and `Set-Cookie` values, the body read and dropped. */
function fetchOne(agent: Agent, url: string, cookie?: string) {
  return new Promise<{ status: number; setCookie: string[] }>((resolve, reject) => {
    get(url, { agent, headers: cookie ? { cookie } : {} }, (response) => {
      response.resume()
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, setCookie: response.headers['set-cookie'] ?? [] }),
      )
      response.on('error', reject)
    }).on('error', reject)
  })
}

/** `count` requests to `path`, `concurrency` at a time; the cookies (if any) in turn. */
async function drive(agent: Agent, base: string, path: string, cookies: string[], count: number) {
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      const { status } = await fetchOne(agent, base + path, cookies[i % cookies.length])
      if (status !== 200) throw new Error(`bench/http-instructions: ${path} answered ${status}`)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

const control = (args: string[]) => {
  const out = spawnSync('callgrind_control', args, { encoding: 'utf8' })
  if (out.status !== 0)
    throw new Error(`bench/http-instructions: callgrind_control ${args.join(' ')}: ${out.stderr}`)
}

/**
 * One counted window, the `window`th dump of the server: a pause first, so V8's compiler threads
 * finish what the requests before queued, then counting on, from zero, for `requests()`.
 */
async function countWindow(pid: string, dir: string, window: number, requests: () => Promise<void>) {
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  control(['--instr=on', pid])
  control(['-z', pid])
  await requests()
  control(['-d', pid])
  return threadCounts(dir, `cg.out.${window}`)
}

/** One point: instructions per request of `layerName` in the scenario. */
async function measure(layerName: string) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-http-instructions-'))
  const server = startServer(layerOf(layerName), dir)
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  try {
    const base = `http://127.0.0.1:${await server.port}`
    const cookies: string[] = []
    if (scenario !== 'none') {
      for (let i = 0; i < 256; i++) {
        const { setCookie } = await fetchOne(agent, `${base}/seed`)
        cookies.push(setCookie.map((h) => h.split(';')[0]).join('; ') || 'none=1')
      }
    }
    const path = scenario === 'none' ? '/' : `/${scenario}`
    const pid = String(server.child.pid)
    await drive(agent, base, path, cookies, warm)
    let counts = await countWindow(pid, dir, 1, () => drive(agent, base, path, cookies, n))
    let windows = 1
    // V8's compiler threads still at work (a busy machine: they lag behind): the window ran code
    // not yet optimized, thousands of instructions a request too many. Warm further, count again.
    while ((counts.others - counts.othersGc) / n > busyOthers && windows < 3) {
      control(['--instr=off', pid])
      await drive(agent, base, path, cookies, Math.ceil(warm / 4))
      windows++
      counts = await countWindow(pid, dir, windows, () => drive(agent, base, path, cookies, n))
    }
    const dump = join(dir, `cg.out.${windows}-01`)
    if (keep) {
      const stem = join(keep, `${framework}-${scenario}-${layerName}-${Date.now()}`)
      cpSync(dump, `${stem}.out`)
      // With NAMES, the JIT code's names too: the perf map the dump's addresses resolve through.
      if (names > 0) cpSync(`/tmp/perf-${pid}.map`, `${stem}.map`)
    }
    const top = names > 0 ? namedSelfCosts(dump).slice(0, names) : []
    const { main, mainGc, others } = counts
    return { main: main / n, mainGc: mainGc / n, others: others / n, windows, top }
  } finally {
    agent.destroy()
    server.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    if (names > 0) rmSync(`/tmp/perf-${server.child.pid}.map`, { force: true })
  }
}

const k = (value: number) => `${(value / 1000).toFixed(1)}k`
console.log(
  `${framework}, ${scenario}: instructions per request (warm ${warm}, ${n} counted, ${concurrency} at a time)`,
)
console.log('| layer | main thread | of which GC | other threads |\n|---|---:|---:|---:|')
for (let round = 0; round < rounds; round++) {
  for (const layerName of layerList.split(',')) {
    const row = await measure(layerName)
    const again = row.windows > 1 ? ` (window ${row.windows}: the compiler threads were busy before)` : ''
    console.log(`| ${layerName} | ${k(row.main)} | ${k(row.mainGc)} | ${k(row.others)}${again} |`)
    for (const [name, count] of row.top)
      console.log(`|   ${name.replaceAll('|', '\\|')} | ${(count / n).toFixed(0)} | | |`)
  }
}

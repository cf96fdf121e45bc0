// The side-by-side HTTP comparison: for each framework, the bare app, sessionbridge on each
// backend and the peers, all started as child processes; wrk (its own process) drives one at a
// time. Every figure is a ratio to the bare framework measured in the same round (mean of the bare
// runs right before and after it), median of the rounds, with p50/p99 latency and the store
// commands per request. Run alone: cd bench && npx tsx src/compare/run.ts
import { type ChildProcess, execFile, fork } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createClient } from 'redis'
import type { Framework, Mount } from './layers.ts'
import { LOAD_CPU, pinned, pinServer } from './pinning.ts'
import { type BenchServices, startServices } from './services.ts'
import { type CompareVariant, STORE_PACKAGES, VARIANTS } from './variants.ts'

const execFileAsync = promisify(execFile)

export interface CompareConfig {
  rounds: number
  /** Seconds per measured run (wrk takes whole seconds). */
  seconds: number
  warmupSeconds: number
  connections: number
  /** Frameworks to run; all when empty. */
  frameworks: Framework[]
  /** Only variants whose name contains one of these (the bare app always runs); all when empty. */
  variants: string[]
}

export const SCENARIOS = [
  { key: 'none', label: 'no cookie', path: '/', cookie: false },
  { key: 'read', label: 'read', path: '/read', cookie: true },
  { key: 'incr', label: 'increment', path: '/incr', cookie: true },
] as const
export type ScenarioKey = (typeof SCENARIOS)[number]['key']

export interface WrkRun {
  rps: number
  requests: number
  p50: number
  p99: number
  errors: number
}

export interface PointResult {
  ratio: number
  rps: number
  p50ms: number
  p99ms: number
  /** Store commands (or store calls, for memory stores) per request. */
  roundTrips: number | null
  /** Redis commands per request behind it (sessionbridge on Redis or rest-sessions). */
  redisCommands: number | null
  /** The server process's CPU time per request (user + system), microseconds: the steadier figure. */
  cpuUs: number
  /**
   * The user-space part of `cpuUs`: the JavaScript (and V8) work. The rest is the kernel's, mostly
   * the socket writes, which cost more per request the less a slower server batches them.
   */
  userUs: number
  /** Bare framework's CPU per request / this one's, paired like `ratio` (1 = costs what bare costs). */
  cpuRatio: number
  errors: number
}

export interface VariantResult {
  framework: Framework
  name: string
  status: 'measured' | 'not measured'
  reason?: string
  scenarios: Partial<Record<ScenarioKey, PointResult>>
}

export interface FrameworkResult {
  framework: Framework
  bareRps: number
  bareP50ms: number
  bareP99ms: number
  /** The bare framework's server CPU time per request, microseconds (median over its runs). */
  bareCpuUs: number
  variants: VariantResult[]
}

export interface CompareResult {
  config: CompareConfig
  notes: string[]
  frameworks: FrameworkResult[]
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const toMs = (value: string, unit: string) =>
  Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1)

/** Sessions per variant: requests rotate through them, so concurrent requests rarely share one. */
const SESSIONS = 256

/** A wrk script sending the cookies round-robin, one per request. */
function cookieScript(dir: string, name: string, cookies: string[]): string {
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.lua`)
  const list = cookies.map((cookie) => JSON.stringify(cookie)).join(',\n')
  writeFileSync(
    file,
    `local cookies = {\n${list}\n}\nlocal i = 0\nrequest = function()\n  i = i % #cookies + 1\n  return wrk.format(nil, nil, { ["Cookie"] = cookies[i] })\nend\n`,
  )
  return file
}

export async function wrk(
  url: string,
  script: string | null,
  seconds: number,
  connections: number,
  cpu: string = LOAD_CPU,
): Promise<WrkRun> {
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    ...(script ? ['-s', script] : []),
    url,
  ]
  const [command, ...rest] = pinned(cpu, ['wrk', ...args])
  const { stdout } = await execFileAsync(command!, rest, { timeout: (seconds + 30) * 1000 })
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)
  const requests = /(\d+) requests in/.exec(stdout)
  const p50 = /\s50%\s+([\d.]+)(us|ms|s)/.exec(stdout)
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout)
  if (!rps || !requests || !p50 || !p99) throw new Error(`unexpected wrk output:\n${stdout}`)
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0)
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0
  return {
    rps: Number(rps[1]),
    requests: Number(requests[1]),
    p50: toMs(p50[1]!, p50[2]!),
    p99: toMs(p99[1]!, p99[2]!),
    errors: non2xx + socketErrors,
  }
}

/** One wrk run and the server's CPU time per request during it. */
interface Measured {
  run: WrkRun
  cpuUs: number
}

/** Lets in-flight requests finish before the counters are read. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

/** A variant's server process and how to ask it for its counters. */
export interface Started {
  variant: CompareVariant
  child: ChildProcess
  base: string
  /** The wrk script sending this variant's seeded cookies. */
  script: string | null
}

/** Starts one server process of `framework` holding `mounts`; answers it and its port. */
async function startServer(
  framework: Framework,
  mounts: readonly Mount[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(
    fileURLToPath(new URL('./server.ts', import.meta.url)),
    [framework, JSON.stringify(mounts)],
    {
      execArgv: [
        ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
        '--import',
        import.meta.resolve('tsx'),
      ],
      env: { ...process.env, ...env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  )
  let errors = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-2000)
  })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /READY (\d+)/.exec(out)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${errors.trim()}`)))
  })
  await pinServer(child.pid)
  return { child, port }
}

/** Starts `variant` in a server process of its own. */
export async function startVariant(variant: CompareVariant, env: Record<string, string>): Promise<Started> {
  const { child, port } = await startServer(variant.framework, [{ prefix: '', layer: variant.layer }], env)
  return { variant, child, base: `http://127.0.0.1:${port}`, script: null }
}

/**
 * Starts `variants` (one framework's) together in one server process: bare at the root, every other
 * under `/<its name>`, its middleware scoped to its routes. Each gets a `Started` of its own over the
 * shared process, whose CPU counters then cover whichever point wrk is driving.
 */
export async function startTogether(
  variants: readonly CompareVariant[],
  env: Record<string, string>,
): Promise<Started[]> {
  const prefixOf = (variant: CompareVariant) =>
    variant.layer.kind === 'bare' ? '' : `/${variant.name.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}`
  const mounts = variants.map((variant) => ({ prefix: prefixOf(variant), layer: variant.layer }))
  const { child, port } = await startServer(variants[0]!.framework, mounts, env)
  return variants.map((variant) => ({
    variant,
    child,
    base: `http://127.0.0.1:${port}${prefixOf(variant)}`,
    script: null,
  }))
}

/** A server's counters: backend calls so far and CPU microseconds used so far. */
interface ServerStats {
  calls: number
  cpuMicros: number
  userMicros: number
}

function statsOf(started: Started): Promise<ServerStats> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no stats reply')), 5000)
    started.child.once('message', (message: unknown) => {
      clearTimeout(timer)
      resolve(message as ServerStats)
    })
    started.child.send('stats')
  })
}

export async function stopVariant(started: Started): Promise<void> {
  if (started.child.exitCode !== null) return
  const exited = new Promise((resolve) => started.child.once('exit', resolve))
  started.child.send('stop')
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))])
  if (started.child.exitCode === null) started.child.kill('SIGKILL')
}

/** Seeds a session and checks, for the first, that the cookie carries it (an increment is read back). */
async function seed(started: Started, check: boolean): Promise<string> {
  const response = await fetch(`${started.base}/seed`)
  const cookie = response.headers
    .getSetCookie()
    .map((header) => header.split(';')[0]!)
    .join('; ')
  if (!cookie) throw new Error('no Set-Cookie from /seed')
  if (check && !started.variant.cookieStore) {
    const first = await (await fetch(`${started.base}/incr`, { headers: { cookie } })).text()
    const read = await (await fetch(`${started.base}/read`, { headers: { cookie } })).text()
    if (first !== '1' || read !== '1')
      throw new Error(`the seeded cookie does not carry the session (incr ${first}, read ${read})`)
  }
  return cookie
}

/** Seeds `SESSIONS` sessions on `started` (the first checked to carry its session) and writes their wrk script. */
export async function seedScript(started: Started, dir: string, name: string): Promise<string> {
  const cookies = [await seed(started, true)]
  while (cookies.length < SESSIONS) {
    const batch = Array.from({ length: Math.min(16, SESSIONS - cookies.length) }, () => seed(started, false))
    cookies.push(...(await Promise.all(batch)))
  }
  return cookieScript(dir, name, cookies)
}

/** One measured wrk run of `path` on `started`, and the server's counters over it, per request. */
export async function measureRun(
  started: Started,
  path: string,
  script: string | null,
  seconds: number,
  connections: number,
  cpu?: string,
): Promise<{ run: WrkRun; calls: number; cpuUs: number; userUs: number }> {
  const before = await statsOf(started)
  const run = await wrk(`${started.base}${path}`, script, seconds, connections, cpu)
  await settle()
  const after = await statsOf(started)
  const requests = Math.max(1, run.requests)
  return {
    run,
    calls: after.calls - before.calls,
    cpuUs: (after.cpuMicros - before.cpuMicros) / requests,
    userUs: (after.userMicros - before.userMicros) / requests,
  }
}

const IGNORED_REDIS = new Set(['info', 'ping', 'client', 'hello', 'select', 'auth', 'command', 'config'])

async function redisCommandCount(client: ReturnType<typeof createClient>): Promise<number> {
  const info = await client.info('commandstats')
  let total = 0
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!IGNORED_REDIS.has(match[1]!.split('|')[0]!)) total += Number(match[2])
  }
  return total
}

/** Which variants can run: their package exports the backend and their service answers. */
function availability(variant: CompareVariant, services: BenchServices): string | null {
  if (variant.layer.kind === 'peer' && variant.layer.store === 'redis' && services.missing.has('redis'))
    return services.missing.get('redis')!
  if (variant.layer.kind === 'limit') return services.missing.get(variant.layer.store) ?? null
  if (variant.layer.kind !== 'sessionbridge') return null
  const pkg = STORE_PACKAGES[variant.layer.store]
  const index = fileURLToPath(new URL(`../../../packages/${pkg.dir}/src/index.ts`, import.meta.url))
  let source = ''
  try {
    source = readFileSync(index, 'utf8')
  } catch {}
  if (!new RegExp(`\\b${pkg.symbol}\\b`).test(source))
    return `packages/${pkg.dir} does not export ${pkg.symbol} yet`
  return services.missing.get(variant.layer.store) ?? null
}

async function runFramework(
  framework: Framework,
  config: CompareConfig,
  services: BenchServices,
  redis: ReturnType<typeof createClient>,
  log: (line: string) => void,
): Promise<FrameworkResult> {
  const results: VariantResult[] = []
  const running: Started[] = []
  let bare: Started | null = null
  const scriptDir = mkdtempSync(join(tmpdir(), 'sb-bench-'))
  try {
    const wanted = (v: CompareVariant) =>
      v.layer.kind === 'bare' ||
      (v.layer.kind !== 'middleware' &&
        (config.variants.length === 0 || config.variants.some((w) => v.name.includes(w))))
    for (const variant of VARIANTS.filter((v) => v.framework === framework && wanted(v))) {
      const result: VariantResult = { framework, name: variant.name, status: 'measured', scenarios: {} }
      results.push(result)
      const unavailable = availability(variant, services)
      if (unavailable) {
        Object.assign(result, { status: 'not measured', reason: unavailable })
        continue
      }
      try {
        const started = await startVariant(variant, services.env)
        if (variant.layer.kind === 'bare') bare = started
        else {
          running.push(started)
          started.script = await seedScript(started, scriptDir, `${framework}-${variant.name}`)
        }
      } catch (error) {
        Object.assign(result, { status: 'not measured', reason: (error as Error).message.slice(0, 300) })
      }
    }
    if (!bare) throw new Error(`${framework}: the bare server did not start`)
    const bareServer = bare
    const points = running.flatMap((started) => SCENARIOS.map((scenario) => ({ started, scenario })))
    const url = (started: Started, path: string) => `${started.base}${path}`
    log(`${framework}: ${points.length} points, ${config.rounds} round(s) of ${config.seconds} s`)
    await wrk(url(bareServer, '/'), null, config.warmupSeconds, config.connections)
    for (const { started, scenario } of points) {
      await wrk(
        url(started, scenario.path),
        scenario.cookie ? started.script : null,
        config.warmupSeconds,
        config.connections,
      )
    }
    // Each variant's block of scenarios is bracketed by bare runs, so every ratio is taken against
    // the bare framework measured within seconds of it (the machine's load drifts).
    const measureBare = (): Promise<Measured> =>
      measureRun(bareServer, '/', null, config.seconds, config.connections)
    const bareRuns: Measured[] = []
    type Sample = {
      run: WrkRun
      bare: number
      bareCpuUs: number
      cpuUs: number
      userUs: number
      calls: number | null
      redis: number
    }
    const samples = new Map<string, Sample[]>()
    let bareBefore = await measureBare()
    bareRuns.push(bareBefore)
    for (let round = 0; round < config.rounds; round++) {
      for (const started of running) {
        const block: {
          key: string
          run: WrkRun
          calls: number
          redis: number
          cpuUs: number
          userUs: number
        }[] = []
        for (const scenario of SCENARIOS) {
          const redisBefore = await redisCommandCount(redis)
          const measured = await measureRun(
            started,
            scenario.path,
            scenario.cookie ? started.script : null,
            config.seconds,
            config.connections,
          )
          const redisCalls = (await redisCommandCount(redis)) - redisBefore
          block.push({ key: `${started.variant.name}|${scenario.key}`, ...measured, redis: redisCalls })
        }
        const bareAfter = await measureBare()
        bareRuns.push(bareAfter)
        for (const { key, ...sample } of block) {
          const list = samples.get(key) ?? []
          list.push({
            ...sample,
            bare: (bareBefore.run.rps + bareAfter.run.rps) / 2,
            bareCpuUs: (bareBefore.cpuUs + bareAfter.cpuUs) / 2,
          })
          samples.set(key, list)
        }
        bareBefore = bareAfter
      }
      log(
        `${framework}: round ${round + 1}/${config.rounds} done (bare ${Math.round(bareBefore.run.rps)} req/s)`,
      )
    }
    for (const started of running) {
      const result = results.find((r) => r.name === started.variant.name)!
      for (const scenario of SCENARIOS) {
        const list = samples.get(`${started.variant.name}|${scenario.key}`) ?? []
        const ratios = list.map((s) => s.run.rps / s.bare)
        const perRequest = (pick: (s: (typeof list)[number]) => number) =>
          median(list.map((s) => pick(s) / Math.max(1, s.run.requests)))
        const variant = started.variant
        const storeCalls = variant.countsInRedis
          ? perRequest((s) => s.redis)
          : perRequest((s) => s.calls ?? 0)
        const showRedis =
          (variant.layer.kind === 'sessionbridge' || variant.layer.kind === 'limit') &&
          (variant.layer.store === 'redis' || variant.layer.store === 'rest-sessions')
        result.scenarios[scenario.key] = {
          ratio: median(ratios),
          rps: median(list.map((s) => s.run.rps)),
          p50ms: median(list.map((s) => s.run.p50)),
          p99ms: median(list.map((s) => s.run.p99)),
          roundTrips: variant.cookieStore ? 0 : storeCalls,
          redisCommands: showRedis ? perRequest((s) => s.redis) : null,
          cpuUs: median(list.map((s) => s.cpuUs)),
          userUs: median(list.map((s) => s.userUs)),
          cpuRatio: median(list.map((s) => s.bareCpuUs / Math.max(0.001, s.cpuUs))),
          errors: list.reduce((sum, s) => sum + s.run.errors, 0),
        }
      }
    }
    return {
      framework,
      bareRps: median(bareRuns.map((r) => r.run.rps)),
      bareP50ms: median(bareRuns.map((r) => r.run.p50)),
      bareP99ms: median(bareRuns.map((r) => r.run.p99)),
      bareCpuUs: median(bareRuns.map((r) => r.cpuUs)),
      variants: results.filter((r) => r.name !== 'bare'),
    }
  } finally {
    for (const started of [...running, ...(bare ? [bare] : [])]) await stopVariant(started)
    rmSync(scriptDir, { recursive: true, force: true })
  }
}

/** Runs the whole comparison; `log` gets progress lines. */
export async function runCompare(
  config: CompareConfig,
  log: (line: string) => void = console.log,
): Promise<CompareResult> {
  const services = await startServices()
  const redis = createClient({ url: services.redisUrl })
  const frameworks: FrameworkResult[] = []
  try {
    await redis.connect()
    const all: Framework[] = ['fastify', 'koa', 'hono', 'express']
    for (const framework of all.filter(
      (f) => config.frameworks.length === 0 || config.frameworks.includes(f),
    )) {
      frameworks.push(await runFramework(framework, config, services, redis, log))
    }
  } finally {
    redis.destroy()
    await services.stop()
  }
  return { config, notes: services.notes, frameworks }
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): CompareConfig {
  const quick = env.BENCH_QUICK === '1'
  return {
    rounds: Number(env.BENCH_ROUNDS ?? (quick ? 1 : 3)),
    seconds: Number(env.BENCH_SECONDS ?? 2),
    warmupSeconds: Number(env.BENCH_WARMUP ?? 3),
    connections: Number(env.BENCH_CONNECTIONS ?? 32),
    frameworks: (env.BENCH_FRAMEWORKS ?? '').split(',').filter(Boolean) as Framework[],
    variants: (env.BENCH_VARIANTS ?? '').split(',').filter(Boolean),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runCompare(configFromEnv(), (line) => console.error(line))
  console.log(JSON.stringify(result, null, 2))
}

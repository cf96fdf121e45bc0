// The CPU floor: the least CPU per request each (row, scenario) needed over many short slices,
// taken in turns with the bare framework. On this shared 2-core box one slice's CPU per request
// swings by +-50% (the host's other load slows a CPU-second), and that noise only ever adds: the
// fastest slice of each point is the one least disturbed, so the ratio of two floors judges a 5%
// goal where medians of 2 s runs cannot. Runs after the comparison, or alone:
// cd bench && BENCH_PARTS=floor pnpm exec tsx src/run-all.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Framework, Layer } from './layers.ts'
import { LOAD_CPU, SERVER_CPU } from './pinning.ts'
import {
  measureRun,
  SCENARIOS,
  type ScenarioKey,
  type Started,
  seedScript,
  startTogether,
  startVariant,
  stopVariant,
  wrk,
} from './run.ts'
import { type BenchServices, startServices } from './services.ts'
import type { StoreName } from './stores.ts'
import { VARIANTS } from './variants.ts'

/** Options of `runFloor`, from `BENCH_FLOOR_*`. */
export interface FloorConfig {
  /** Turns: each point gets one slice per turn. @default 8 */
  turns: number
  /** Seconds per slice (wrk takes whole seconds). @default 1 */
  seconds: number
  /** Warm-up per point before the first turn, seconds. @default 3 */
  warmupSeconds: number
  connections: number
  frameworks: Framework[]
  /** The stores whose sessionbridge row and limit row are measured. @default ['memory'] */
  stores: StoreName[]
  /**
   * Where wrk runs: `separate`, its own core (as the comparison does), or `shared`, the server's.
   * Across cores every response wakes a sleeping wrk with an interprocessor interrupt (a VM exit
   * here), kernel time the server is billed for and that grows as the server slows: on this box 5
   * µs more of a handler's own work added 1.8 µs of kernel time per request across cores, none on
   * one core. `shared` measures the server's code without that amplifier. @default 'separate'
   */
  loadCore: 'separate' | 'shared'
  /**
   * `separate`: every row in a server process of its own; `shared`: one process per framework and
   * store holding bare, the empty middleware and that store's two rows, each under its own path
   * with its middleware scoped to it (bare at the root). Two processes of one build differ by 10 -
   * 30% here (where V8 and the allocator put things, the core's other load during each one's life),
   * so rows in separate processes carry that error into their ratio; in one process they share it,
   * and the slices of every row interleave over the same life. One store per process, as an app
   * runs: with several backends warm in one process the core's calls into them turn polymorphic
   * (core's memory read in a loop: 2.4 -> 3.2 µs with Redis, SQLite and PostgreSQL warmed beside
   * it, see the README), a cost no app with one store pays. @default 'shared'
   */
  process: 'separate' | 'shared'
}

/** One row's floors, microseconds of CPU per request (user + system), by scenario. */
export interface FloorRow {
  name: string
  floorUs: Partial<Record<ScenarioKey, number>>
  /** The user-space part of the slice that set each floor. */
  userUs: Partial<Record<ScenarioKey, number>>
}

export interface FloorFramework {
  framework: Framework
  /** The stores of this group's rows (one per server process in `shared` mode). */
  stores?: StoreName[]
  /** Bare's floor on `GET /` (no cookie), in this group's process when shared. */
  bareUs: number
  rows: FloorRow[]
}

export interface FloorResult {
  config: FloorConfig
  frameworks: FloorFramework[]
}

/** The controls have no session: only their no-cookie request is measured. */
const onlyRoot = (layer: Layer) => layer.kind === 'bare' || layer.kind === 'middleware'

interface Point {
  started: Started
  scenario: (typeof SCENARIOS)[number]
}

/** One slice of `point`: its CPU (total, user) per request. */
async function slice(point: Point, config: FloorConfig) {
  const { started, scenario } = point
  const script = scenario.cookie ? started.script : null
  const cpu = config.loadCore === 'shared' ? SERVER_CPU : LOAD_CPU
  const { run, cpuUs, userUs } = await measureRun(
    started,
    scenario.path,
    script,
    config.seconds,
    config.connections,
    cpu,
  )
  if (run.errors > 0) throw new Error(`${started.variant.name} ${scenario.path}: ${run.errors} errors`)
  return { cpuUs, userUs }
}

async function floorOf(
  framework: Framework,
  stores: readonly StoreName[],
  config: FloorConfig,
  services: BenchServices,
  log: (line: string) => void,
): Promise<FloorFramework> {
  const wanted = VARIANTS.filter(
    (v) =>
      v.framework === framework &&
      (v.layer.kind === 'bare' ||
        v.layer.kind === 'middleware' ||
        ((v.layer.kind === 'sessionbridge' || v.layer.kind === 'limit') && stores.includes(v.layer.store))),
  )
  const scriptDir = mkdtempSync(join(tmpdir(), 'sb-floor-'))
  const running: Started[] = []
  try {
    if (config.process === 'shared') running.push(...(await startTogether(wanted, services.env)))
    else for (const variant of wanted) running.push(await startVariant(variant, services.env))
    for (const started of running) {
      if (onlyRoot(started.variant.layer)) continue
      started.script = await seedScript(started, scriptDir, `${framework}-${started.variant.name}`)
    }
    // Bare and the empty middleware serve only `GET /`; every other row serves all three scenarios.
    const points: Point[] = running.flatMap((started) =>
      SCENARIOS.filter((s) => !onlyRoot(started.variant.layer) || s.key === 'none').map((scenario) => ({
        started,
        scenario,
      })),
    )
    for (const point of points) {
      await wrk(
        `${point.started.base}${point.scenario.path}`,
        point.scenario.cookie ? point.started.script : null,
        config.warmupSeconds,
        config.connections,
      )
    }
    const best = new Map<Point, { cpuUs: number; userUs: number }>()
    for (let turn = 0; turn < config.turns; turn++) {
      // A different order each turn (rotated, every other turn reversed): no point always follows
      // the same one.
      const rotated = [...points.slice(turn % points.length), ...points.slice(0, turn % points.length)]
      for (const point of turn % 2 ? rotated.reverse() : rotated) {
        const measured = await slice(point, config)
        const previous = best.get(point)
        if (!previous || measured.cpuUs < previous.cpuUs) best.set(point, measured)
      }
      log(`floor ${framework} (${stores.join(', ')}): turn ${turn + 1}/${config.turns}`)
    }
    const rows: FloorRow[] = []
    let bareUs = Number.NaN
    for (const started of running) {
      const row: FloorRow = { name: started.variant.name, floorUs: {}, userUs: {} }
      for (const point of points.filter((p) => p.started === started)) {
        const measured = best.get(point)!
        row.floorUs[point.scenario.key] = measured.cpuUs
        row.userUs[point.scenario.key] = measured.userUs
      }
      if (started.variant.layer.kind === 'bare') bareUs = row.floorUs.none!
      else rows.push(row)
    }
    return { framework, stores: [...stores], bareUs, rows }
  } finally {
    for (const started of running) await stopVariant(started)
    rmSync(scriptDir, { recursive: true, force: true })
  }
}

/** Measures the floors of every framework's bare, limit and sessionbridge rows on `config.stores`. */
export async function runFloor(config: FloorConfig, log: (line: string) => void): Promise<FloorResult> {
  const services = await startServices()
  const frameworks: FloorFramework[] = []
  try {
    const all: Framework[] = ['fastify', 'koa', 'hono', 'express']
    for (const framework of all.filter(
      (f) => config.frameworks.length === 0 || config.frameworks.includes(f),
    )) {
      // Shared: a process per store, each with its own bare (see `FloorConfig.process`).
      const groups = config.process === 'shared' ? config.stores.map((store) => [store]) : [config.stores]
      for (const stores of groups) frameworks.push(await floorOf(framework, stores, config, services, log))
    }
  } finally {
    await services.stop()
  }
  return { config, frameworks }
}

export function floorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): FloorConfig {
  return {
    turns: Number(env.BENCH_FLOOR_TURNS ?? 8),
    seconds: Number(env.BENCH_FLOOR_SECONDS ?? 1),
    warmupSeconds: Number(env.BENCH_WARMUP ?? 3),
    connections: Number(env.BENCH_CONNECTIONS ?? 32),
    frameworks: (env.BENCH_FRAMEWORKS ?? '').split(',').filter(Boolean) as Framework[],
    stores: (env.BENCH_FLOOR_STORES ?? 'memory').split(',').filter(Boolean) as StoreName[],
    loadCore: loadCoreOf(env.BENCH_FLOOR_LOAD_CORE),
    process: processOf(env.BENCH_FLOOR_PROCESS),
  }
}

function processOf(value: string | undefined): FloorConfig['process'] {
  if (value === undefined || value === '' || value === 'shared') return 'shared'
  if (value === 'separate') return 'separate'
  throw new Error(`BENCH_FLOOR_PROCESS must be "shared" or "separate", not "${value}"`)
}

function loadCoreOf(value: string | undefined): FloorConfig['loadCore'] {
  if (value === undefined || value === '' || value === 'separate') return 'separate'
  if (value === 'shared') return 'shared'
  throw new Error(`BENCH_FLOOR_LOAD_CORE must be "separate" or "shared", not "${value}"`)
}

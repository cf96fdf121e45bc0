// Renders a whole benchmark run as markdown: the machine, the comparison tables (ratios to bare,
// latency, round trips), the goals of issue 10 checked against the figures, and the backend runs.
import type { BackendsResult, FileRun } from './backends.ts'
import type { FloorResult } from './compare/floor.ts'
import {
  type CompareResult,
  type FrameworkResult,
  type PointResult,
  SCENARIOS,
  type VariantResult,
} from './compare/run.ts'
import { floorSection } from './report-floor.ts'
import { limitSection } from './report-limits.ts'

export interface Machine {
  date: string
  nproc: number
  cpu: string
  memoryGiB: number
  node: string
  platform: string
  loadBefore: number[]
  loadAfter: number[]
}

export interface RunResult {
  machine: Machine
  command: string
  seconds: number
  compare: CompareResult | null
  /** Absent in runs made before the floor part existed. */
  floor?: FloorResult | null
  backends: BackendsResult | null
  others: FileRun[]
}

const k = (rps: number) => (rps >= 1000 ? `${(rps / 1000).toFixed(1)}k` : rps.toFixed(0))
const ms = (value: number) => (value >= 10 ? value.toFixed(0) : value.toFixed(1))
const rt = (value: number | null) =>
  value === null ? '?' : value < 0.005 ? '0' : value.toFixed(value >= 10 ? 0 : 2).replace(/\.?0+$/, '')

function cell(point: PointResult | undefined): string {
  if (!point) return '-'
  const errors = point.errors > 0 ? ` **${point.errors} errors**` : ''
  const cpu =
    point.cpuUs === undefined ? '' : `, CPU ${point.cpuUs.toFixed(0)} µs (${point.cpuRatio.toFixed(2)})`
  return `**${point.ratio.toFixed(2)}** ${k(point.rps)}/s, ${ms(point.p50ms)} / ${ms(point.p99ms)} ms${cpu}${errors}`
}

function trips(variant: VariantResult): string {
  const list = SCENARIOS.map((s) => rt(variant.scenarios[s.key]?.roundTrips ?? null)).join(' / ')
  const redis = SCENARIOS.map((s) => variant.scenarios[s.key]?.redisCommands)
  if (redis.every((r) => r === null || r === undefined)) return list
  return `${list} (Redis runs ${redis.map((r) => rt(r ?? null)).join(' / ')})`
}

function frameworkTable(f: FrameworkResult): string[] {
  const lines = [
    `### ${f.framework} (bare: ${k(f.bareRps)} req/s, p50 ${ms(f.bareP50ms)} ms, p99 ${ms(f.bareP99ms)} ms${f.bareCpuUs === undefined ? '' : `, server CPU ${f.bareCpuUs.toFixed(0)} µs per request`})`,
    '',
    '| library (store) | no cookie | read one value | increment | store round trips per request: none / read / increment |',
    '|---|---:|---:|---:|---|',
  ]
  for (const v of f.variants) {
    if (v.status !== 'measured') lines.push(`| ${v.name} | not measured: ${v.reason ?? ''} | | | |`)
    else
      lines.push(
        `| ${v.name} | ${SCENARIOS.map((s) => cell(v.scenarios[s.key])).join(' | ')} | ${trips(v)} |`,
      )
  }
  return [...lines, '']
}

/** The issue's goals, checked: no-cookie within 5% of bare; faster than a peer doing more round trips. */
export function goals(compare: CompareResult): string[] {
  const lines: string[] = []
  for (const f of compare.frameworks) {
    const measured = f.variants.filter((v) => v.status === 'measured')
    const ours = measured.filter((v) => v.name.startsWith('sessionbridge'))
    const peers = measured.filter((v) => !v.name.startsWith('sessionbridge') && !v.name.startsWith('limit'))
    // The control: a limit row's no-cookie request runs the bare app's own code, in a process
    // started and warmed like every other row; how far it reads from 1.00 is the error bar.
    const controls = measured.filter((v) => v.name.startsWith('limit') && v.scenarios.none)
    if (controls.length > 0) {
      const figures = controls.map((v) => v.scenarios.none!.cpuRatio ?? v.scenarios.none!.ratio)
      lines.push(
        `- ${f.framework} / control: the limit rows' no-cookie requests (bare's own code) read ${Math.min(...figures).toFixed(2)}-${Math.max(...figures).toFixed(2)} of bare (CPU per request): the error bar of the no-cookie checks below`,
      )
    }
    for (const mine of ours) {
      const none = mine.scenarios.none
      // Judged on CPU per request where measured (throughput alone is too noisy on 2 cores).
      const figure = none?.cpuRatio ?? none?.ratio
      if (none && figure !== undefined)
        lines.push(
          `- ${f.framework} / ${mine.name}, no cookie: ${figure.toFixed(2)} of bare (${none.cpuRatio === undefined ? 'throughput' : 'CPU per request'}; throughput ${none.ratio.toFixed(2)}): ${figure >= 0.95 ? 'met' : 'MISSED (goal 0.95)'}`,
        )
    }
    for (const peer of peers) {
      // Compare like with like: memory with memory (and cookie), Redis with Redis.
      const onRedis = /redis/i.test(peer.name)
      const mine = ours.find((v) => v.name === `sessionbridge (${onRedis ? 'redis' : 'memory'})`)
      if (!mine) continue
      for (const s of SCENARIOS) {
        const p = peer.scenarios[s.key]
        const m = mine.scenarios[s.key]
        if (!p || !m || p.roundTrips === null || m.roundTrips === null) continue
        if (p.roundTrips <= m.roundTrips + 0.05) continue
        const verdict = m.ratio > p.ratio ? 'faster' : 'NOT FASTER'
        lines.push(
          `- ${f.framework} / ${s.label}: ${mine.name} ${m.ratio.toFixed(2)} (${rt(m.roundTrips)} trips) vs ${peer.name} ${p.ratio.toFixed(2)} (${rt(p.roundTrips)} trips): ${verdict}`,
        )
      }
    }
  }
  return lines
}

export function renderMarkdown(run: RunResult): string {
  const m = run.machine
  const out = [
    '# sessionbridge benchmarks: latest run',
    '',
    `${m.date}; ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node} on ${m.platform}; load average before ${m.loadBefore.map((l) => l.toFixed(2)).join(', ')}, after ${m.loadAfter.map((l) => l.toFixed(2)).join(', ')} (1/5/15 min; other work shared the machine). Command: \`${run.command}\`, ${Math.round(run.seconds)} s in all.`,
    '',
  ]
  if (run.compare) {
    const c = run.compare.config
    out.push(
      '## HTTP: each library beside its framework',
      '',
      `wrk -t1 -c${c.connections} -d${c.seconds}s in its own process, against one server process per row; ${c.warmupSeconds} s warm-up per point; median of ${c.rounds} round(s). **Ratio** = requests/s over the bare framework's, measured right before and right after each row's three scenarios (1.00 = as fast as no session library). Then req/s and p50 / p99 latency. The read and increment scenarios rotate over 256 seeded sessions (one signed cookie each); "no cookie" requests do not touch the session. Round trips = commands the store received per request (Redis: \`INFO commandstats\` of a private Redis; others: a counting wrapper around the client or store); for sessionbridge on Redis and rest-sessions, "Redis runs" counts the commands executed inside Redis (Lua scripts included).`,
      '',
      ...run.compare.notes.map((n) => `- ${n}`),
      '',
    )
    for (const f of run.compare.frameworks) out.push(...frameworkTable(f))
    out.push('## The goals of issue 10, checked against these figures', '', ...goals(run.compare), '')
    out.push(
      '## Each backend against its limit',
      '',
      "A limit row is the bare framework plus the raw round trips a session needs on that store (read: one `GET` / `get` / `SELECT` by primary key / rest-sessions `GET`; increment: that plus one `SET` / `set` / `UPDATE` / rest-sessions `POST set`), through the same client library, keyed by a plain unsigned cookie (src/compare/limits.ts). The ratio is the limit's server CPU per request over sessionbridge's (1.00 = costs what the raw round trips cost). Memory's limit row is bare plus a `Map` lookup and one `JSON.parse`: no I/O, so it is bare as a fresh process runs it, and its no-cookie column is the control for every no-cookie figure (it runs exactly the bare app's code).",
      '',
      ...limitSection(run.compare),
    )
  }
  if (run.floor) out.push(...floorSection(run.floor))
  if (run.backends) {
    out.push(
      '## Backends: load and save per second beside the raw client',
      '',
      'Memory backend (64 calls in flight; raw = a Map of JSON strings doing the same work):',
      '',
      '| scenario | backend ops/s | raw ops/s | backend / raw |',
      '|---|---:|---:|---:|',
      ...run.backends.memory.map(
        (r) =>
          `| ${r.scenario} | ${Math.round(r.backendOps)} | ${Math.round(r.rawOps)} | ${r.ratio.toFixed(2)} |`,
      ),
      '',
    )
    for (const file of run.backends.files) out.push(...fileSection(file))
  }
  for (const file of run.others) out.push(...fileSection(file))
  return `${out.join('\n')}\n`
}

function fileSection(file: FileRun): string[] {
  // The counted goals print a markdown table of their own; their progress lines stay out of it.
  if (file.file === 'counted.ts' && file.ok) {
    const table = file.output.split('\n').filter((line) => !line.startsWith('[counted]'))
    return [`## Issue 22's goals, counted (src/${file.file}, ${file.seconds.toFixed(0)} s)`, '', ...table, '']
  }
  return [
    `### src/${file.file} (${file.seconds.toFixed(0)} s${file.ok ? '' : ', FAILED'})`,
    '',
    '```',
    file.output,
    '```',
    '',
  ]
}

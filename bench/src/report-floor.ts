// The CPU floor section (compare/floor.ts): per framework, the least CPU per request each point
// needed over many interleaved slices, and the goals of issue 22 that the floors can judge: no
// cookie within 5% of bare, each row against its limit row, with the control beside them.
import type { FloorFramework, FloorResult, FloorRow } from './compare/floor.ts'
import { EMPTY_MIDDLEWARE } from './compare/variants.ts'
import { GOALS } from './report-limits.ts'

const us = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(1))
// Checks print three decimals: a 0.947 shown as 0.95 beside "MISSED (goal 0.95)" reads as a contradiction.
const ratio = (value: number) => value.toFixed(3)
const storeOf = (name: string) => /\(([^)]+)\)/.exec(name)?.[1] ?? ''
/** The framework, and the store when the group ran one store's rows in a process of their own. */
const labelOf = (f: FloorFramework) => `${f.framework}${f.stores?.length === 1 ? `, ${f.stores[0]}` : ''}`

function table(f: FloorFramework): string[] {
  const lines = [
    `### ${labelOf(f)} (bare, no cookie: ${us(f.bareUs)} µs)`,
    '',
    '| row | no cookie µs (bare / it) | read µs | increment µs |',
    '|---|---:|---:|---:|',
  ]
  for (const row of f.rows) {
    const none = row.floorUs.none
    const ratio = none === undefined ? '' : ` (**${(f.bareUs / none).toFixed(2)}**)`
    lines.push(`| ${row.name} | ${us(none)}${ratio} | ${us(row.floorUs.read)} | ${us(row.floorUs.incr)} |`)
  }
  return [...lines, '']
}

function checks(f: FloorFramework): string[] {
  const lines: string[] = []
  const limitOf = (row: FloorRow) => f.rows.find((r) => r.name === `limit (${storeOf(row.name)})`)
  for (const row of f.rows.filter((r) => r.name.startsWith('limit'))) {
    lines.push(
      `- ${f.framework} / control: ${row.name} runs bare's code on a request without cookie: ${ratio(f.bareUs / row.floorUs.none!)} of bare`,
    )
  }
  const middleware = f.rows.find((r) => r.name === EMPTY_MIDDLEWARE)?.floorUs.none
  if (middleware !== undefined) {
    lines.push(
      `- ${labelOf(f)} / ${EMPTY_MIDDLEWARE}: ${ratio(f.bareUs / middleware)} of bare (what any middleware costs a request)`,
    )
  }
  for (const row of f.rows.filter((r) => r.name.startsWith('sessionbridge'))) {
    const none = f.bareUs / row.floorUs.none!
    const beside =
      middleware === undefined ? '' : `; ${ratio(middleware / row.floorUs.none!)} of the empty middleware`
    lines.push(
      `- ${f.framework} / ${row.name}, no cookie: ${ratio(none)} of bare: ${none >= 0.95 ? 'met' : 'MISSED (goal 0.95)'}${beside}`,
    )
    const limit = limitOf(row)
    const goal = GOALS[storeOf(row.name)]
    if (!limit || !goal) continue
    for (const key of ['read', 'incr'] as const) {
      const ours = row.floorUs[key]
      const theirs = limit.floorUs[key]
      if (ours === undefined || theirs === undefined) continue
      const x = theirs / ours
      lines.push(
        `- ${f.framework} / ${row.name}, ${key === 'read' ? 'read' : 'increment'}: ${ratio(x)} of its limit (${us(ours)} vs ${us(theirs)} µs): ${x >= goal[key] ? 'met' : `MISSED (goal ${goal[key]})`}`,
      )
    }
  }
  return lines
}

export function floorSection(floor: FloorResult): string[] {
  const c = floor.config
  return [
    '## CPU floor: the least CPU per request over interleaved slices',
    '',
    `Stores: ${c.stores.join(', ')}. Each point (bare's \`GET /\`, and every row's three scenarios) gets ${c.turns} slices of ${c.seconds} s (wrk -c${c.connections}), taken in turns with every other point after ${c.warmupSeconds} s of warm-up each; the figure is the slice with the least server CPU per request (user + system). wrk ran ${c.loadCore === 'shared' ? "on the server's core (`BENCH_FLOOR_LOAD_CORE=shared`: no cross-core wakeups billed to the server)" : 'on a core of its own'}. ${c.process === 'shared' ? "Each store's rows ran in one server process per framework with bare and the empty middleware (`BENCH_FLOOR_PROCESS=shared`), each under its own path with its middleware scoped to it and bare at the root, so no ratio carries the difference between two processes, and no process has a second store's code warm" : 'Every row ran in a server process of its own (`BENCH_FLOOR_PROCESS=separate`)'}. Noise from the shared machine only adds CPU, so the least-disturbed slice is the steadiest figure this box gives; the control rows (the limit rows' requests without cookie run bare's own code) show how far it still is from exact, and the empty middleware what the framework charges any middleware. Ratios: bare's floor (or the limit row's) over the row's.`,
    '',
    ...floor.frameworks.flatMap(table),
    ...floor.frameworks.flatMap(checks),
    '',
  ]
}

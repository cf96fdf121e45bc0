// "x of its limit": each sessionbridge row against its limit row (the bare framework plus the same
// raw round trips through the same client, compare/limits.ts), and the goals of issue 22 checked
// on CPU per request (the steadier figure on a shared machine), with throughput beside it.
import type { CompareResult, PointResult, VariantResult } from './compare/run.ts'

/**
 * Issue 22's goals, each row against its limit row. Memory's limit row is bare plus a `Map` lookup
 * (started and warmed like every other row); without it, memory is judged against bare.
 */
export const GOALS: Record<string, { read: number; incr: number }> = {
  memory: { read: 0.85, incr: 0.9 },
  redis: { read: 0.9, incr: 0.9 },
  memcached: { read: 0.9, incr: 0.9 },
  postgres: { read: 0.9, incr: 0.9 },
  mariadb: { read: 0.9, incr: 0.9 },
  sqlite: { read: 0.9, incr: 0.9 },
  'rest-sessions': { read: 0.9, incr: 0.9 },
}

const storeOf = (name: string) => /\(([^)]+)\)/.exec(name)?.[1] ?? ''

/** CPU per request of the limit over ours (1 = costs what the limit costs), and the same on throughput. */
function versus(ours: PointResult, limit: PointResult | null): { cpu: number; rps: number } {
  if (!limit) return { cpu: ours.cpuRatio, rps: ours.ratio }
  return { cpu: limit.cpuUs / Math.max(0.001, ours.cpuUs), rps: ours.ratio / Math.max(0.001, limit.ratio) }
}

function cell(ours: VariantResult, limit: VariantResult | null, key: 'read' | 'incr'): string {
  const mine = ours.scenarios[key]
  const theirs = limit?.scenarios[key] ?? null
  if (!mine || (limit && !theirs)) return '-'
  const { cpu, rps } = versus(mine, theirs)
  const limitCpu = theirs ? `${theirs.cpuUs.toFixed(0)} µs` : 'bare'
  // Older result files have no user-space split.
  const user =
    theirs && mine.userUs !== undefined && theirs.userUs !== undefined
      ? `, user ${mine.userUs.toFixed(0)} vs ${theirs.userUs.toFixed(0)}`
      : ''
  return `**${cpu.toFixed(2)}** (${mine.cpuUs.toFixed(0)} vs ${limitCpu}${user}; throughput ${rps.toFixed(2)})`
}

/** The table of every sessionbridge row against its limit, then the goals checked. */
export function limitSection(compare: CompareResult): string[] {
  const table = [
    '| framework | store | read: CPU ratio to limit (µs ours vs limit, of it user space; throughput) | increment: same | limit round trips read / increment |',
    '|---|---|---:|---:|---|',
  ]
  const goals: string[] = []
  for (const f of compare.frameworks) {
    for (const ours of f.variants.filter(
      (v) => v.status === 'measured' && v.name.startsWith('sessionbridge'),
    )) {
      const store = storeOf(ours.name)
      const limitRow = f.variants.find((v) => v.status === 'measured' && v.name === `limit (${store})`)
      const limit = limitRow ?? (store === 'memory' ? null : undefined)
      if (limit === undefined) {
        table.push(`| ${f.framework} | ${store} | no limit row measured | | |`)
        continue
      }
      const trips = limit
        ? ['read', 'incr'].map((k) => limit.scenarios[k as 'read']?.roundTrips?.toFixed(2) ?? '?').join(' / ')
        : 'bare (no I/O)'
      table.push(
        `| ${f.framework} | ${store} | ${cell(ours, limit, 'read')} | ${cell(ours, limit, 'incr')} | ${trips} |`,
      )
      const goal = GOALS[store]
      if (!goal) continue
      for (const key of ['read', 'incr'] as const) {
        const target = goal[key]
        const mine = ours.scenarios[key]
        if (!target || !mine) continue
        const { cpu } = versus(mine, limit?.scenarios[key] ?? null)
        const against = limit ? 'of its limit' : 'of bare'
        goals.push(
          `- ${f.framework} / ${store} ${key === 'read' ? 'read' : 'increment'}: ${cpu.toFixed(2)} ${against} (CPU per request): ${cpu >= target ? 'met' : `MISSED (goal ${target})`}`,
        )
      }
    }
  }
  return [
    ...table,
    '',
    '### The goals of issue 22 (reads and writes), checked on CPU per request',
    '',
    ...goals,
    '',
  ]
}

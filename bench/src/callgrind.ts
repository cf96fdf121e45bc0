// What instructions.ts and http-instructions.ts read from a callgrind output file.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Functions of V8's garbage collector, as callgrind names them. */
const GC = /Scaveng|Marking|Sweep|v8::internal::Heap::|heap::base::|Evacuat|IterateObjectCache/

/** A callgrind file's total instructions and its garbage collection functions' sum (callgrind_annotate). */
export function callgrindTotals(file: string): { total: number; gc: number } {
  const out = spawnSync('callgrind_annotate', ['--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (out.status !== 0) throw new Error(`bench: callgrind_annotate failed: ${out.stderr}`)
  const totals = { total: 0, gc: 0 }
  for (const line of out.stdout.split('\n')) {
    const match = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/.exec(line)
    if (!match) continue
    const value = Number(match[1]!.replaceAll(',', ''))
    if (match[2]!.includes('PROGRAM TOTALS')) totals.total = value
    else if (GC.test(match[2]!)) totals.gc += value
  }
  return totals
}

/** valgrind's arguments that run the TypeScript `script` (through tsx) under callgrind, a file per thread. */
export const callgrindNode = (file: string, script: string, ...args: string[]): string[] => [
  '--tool=callgrind',
  '--separate-threads=yes',
  `--callgrind-out-file=${file}`,
  'node',
  '--import',
  'tsx',
  script,
  ...args,
]

/** One run's instructions: the main thread's (JS, and the GC work it does itself), the others'. */
export interface ThreadCounts {
  main: number
  mainGc: number
  others: number
}

/**
 * The counts of the per-thread files `<prefix>-NN` in `dir` (`--separate-threads=yes`): `-01` is
 * the main thread; V8 compiles and helps the GC on the others, whose share swings with timing.
 */
export function threadCounts(dir: string, prefix: string): ThreadCounts {
  const counts: ThreadCounts = { main: 0, mainGc: 0, others: 0 }
  const files = readdirSync(dir).filter(
    (entry) => entry.startsWith(prefix) && /^-\d+$/.test(entry.slice(prefix.length)),
  )
  for (const name of files) {
    const totals = callgrindTotals(join(dir, name))
    if (name === `${prefix}-01`) {
      counts.main = totals.total
      counts.mainGc = totals.gc
    } else counts.others += totals.total
  }
  if (counts.main === 0) throw new Error(`bench: no main thread's count for ${prefix} in ${dir}`)
  return counts
}

/** Throws unless valgrind is installed, naming the tool that needs it. */
export function requireValgrind(tool: string): void {
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new Error(`bench/${tool}: needs valgrind (Debian package \`valgrind\`)`)
}

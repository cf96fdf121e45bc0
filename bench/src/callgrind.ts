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

/**
 * The young generation pinned at V8's default maximum (16 MB a semi-space, what a loaded server
 * grows it to). V8 shrinks it when fewer than ~1000 bytes are allocated per millisecond of wall
 * time, which under callgrind (50 times slower) happens or not with the other core's load: with a
 * busy neighbour, a scavenge every ~1 MB put 5.6k instructions of GC on each Fastify memory read
 * (84.4k against 77.8k alone); pinned, 77.8k either way.
 */
const YOUNG_GENERATION = ['--min-semi-space-size=16', '--max-semi-space-size=16']

/** How `callgrindNode` starts the program. */
export interface CallgrindNodeOptions {
  /**
   * Count from the start. `false` runs uninstrumented (about 10 times faster) until
   * `callgrind_control --instr=on`, so a long warm-up costs minutes instead of tens. @default true
   */
  instrumentFromStart?: boolean
}

/** valgrind's arguments that run the TypeScript `script` (through tsx) under callgrind, a file per thread. */
export const callgrindNode = (
  file: string,
  script: string,
  args: readonly string[] = [],
  options: CallgrindNodeOptions = {},
): string[] => [
  '--tool=callgrind',
  '--separate-threads=yes',
  // CG_INSTR=1: a count per instruction address (http-instructions.ts).
  ...(process.env.CG_INSTR ? ['--dump-instr=yes'] : []),
  `--callgrind-out-file=${file}`,
  ...(options.instrumentFromStart === false ? ['--instr-atstart=no'] : []),
  'node',
  ...YOUNG_GENERATION,
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
  /** The garbage collection among the others' (V8's GC helper threads: Express's large heap keeps them busy). */
  othersGc: number
}

/**
 * The counts of the per-thread files `<prefix>-NN` in `dir` (`--separate-threads=yes`): `-01` is
 * the main thread; V8 compiles and helps the GC on the others, whose share swings with timing.
 */
export function threadCounts(dir: string, prefix: string): ThreadCounts {
  const counts: ThreadCounts = { main: 0, mainGc: 0, others: 0, othersGc: 0 }
  const files = readdirSync(dir).filter(
    (entry) => entry.startsWith(prefix) && /^-\d+$/.test(entry.slice(prefix.length)),
  )
  for (const name of files) {
    const totals = callgrindTotals(join(dir, name))
    if (name === `${prefix}-01`) {
      counts.main = totals.total
      counts.mainGc = totals.gc
    } else {
      counts.others += totals.total
      counts.othersGc += totals.gc
    }
  }
  if (counts.main === 0) throw new Error(`bench: no main thread's count for ${prefix} in ${dir}`)
  return counts
}

/** Throws unless valgrind is installed, naming the tool that needs it. */
export function requireValgrind(tool: string): void {
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new Error(`bench/${tool}: needs valgrind (Debian package \`valgrind\`)`)
}

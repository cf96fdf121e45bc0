// What instructions.ts and http-instructions.ts read from a callgrind output file.
import { spawnSync } from 'node:child_process'

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

// Names for the JIT code in a callgrind file. Callgrind sees V8's generated code as bare addresses
// (`???:0x...`); a Node started with `--perf-basic-prof` writes `/tmp/perf-<pid>.map` (start, size,
// name of every code object it makes), so each address can be given its function: `JS:*name
// file:line` (`*` optimized, `^` baseline, `~` interpreted) or `RegExp:<source>`. Used by
// http-instructions.ts (NAMES=<n>): which functions a request's instructions are spent in, ours and
// Node's and the builtins' alike, self cost only.
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs'

interface CodeRange {
  start: number
  size: number
  name: string
}

/** The code ranges of a perf map, by start address. */
function readPerfMap(file: string): CodeRange[] {
  const ranges: CodeRange[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const first = line.indexOf(' ')
    const second = line.indexOf(' ', first + 1)
    if (first <= 0 || second <= 0) continue
    ranges.push({
      start: Number.parseInt(line.slice(0, first), 16),
      size: Number.parseInt(line.slice(first + 1, second), 16),
      name: line.slice(second + 1),
    })
  }
  return ranges.sort((a, b) => a.start - b.start)
}

/** The range holding `address` (the latest made, when V8 reused the space), or undefined. */
function rangeOf(ranges: CodeRange[], address: number): CodeRange | undefined {
  let low = 0
  let high = ranges.length - 1
  while (low <= high) {
    const mid = (low + high) >> 1
    if (ranges[mid]!.start <= address) low = mid + 1
    else high = mid - 1
  }
  for (let i = high; i >= 0 && ranges[i]!.start + 0x100000 > address; i--) {
    const range = ranges[i]!
    if (address < range.start + range.size) return range
  }
  return undefined
}

/** Shortens a code name: paths relative to the repository, pnpm's store folded, no column. */
const shortName = (name: string) =>
  name
    .replace(/file:\/\/\/[^ ]*?\/(packages|bench)\//, '$1/')
    .replace(/\/[^ ]*node_modules\/\.pnpm\/[^/]+\/node_modules\//, 'nm/')
    .replace(/:\d+:\d+$/, '')

/**
 * The totals and the outermost frames, which callgrind_annotate lists with everything below them
 * even without `--inclusive`: no one's own cost.
 */
const OUTER_FRAMES =
  /PROGRAM TOTALS|libc_start|libc-start|^\?\?\?:(main|node::Start\(|node::NodeMainInstance::Run|node::SpinEventLoopInternal|\(below main\))|^\?\?\?:0x[0-9a-f]+ \[[^\]]*ld-linux/

/** A C++ function's name without its return type and argument list (templates kept). */
function cppName(signature: string): string {
  // The argument list: the last parenthesized group, matched from its end.
  let end = signature.lastIndexOf(')')
  let cut = signature.length
  for (let depth = 0; end >= 0; end--) {
    if (signature[end] === ')') depth++
    else if (signature[end] === '(' && --depth === 0) {
      cut = end
      break
    }
  }
  const name = signature.slice(0, cut)
  // The return type: up to the last space outside brackets (`(anonymous namespace)` has one).
  let depth = 0
  let start = 0
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '<' || name[i] === '(') depth++
    else if (name[i] === '>' || name[i] === ')') depth--
    else if (name[i] === ' ' && depth === 0) start = i + 1
  }
  return name.slice(start)
}

/**
 * Self instructions per function of a callgrind file (the main thread's, `--separate-threads`),
 * JIT addresses named through the perf map of its process, summed by name, highest first.
 */
export function namedSelfCosts(file: string): Array<[name: string, instructions: number]> {
  // The process's pid, as callgrind wrote it in the file's header.
  const head = Buffer.alloc(4096)
  const fd = openSync(file, 'r')
  try {
    readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  const pid = /^pid: (\d+)$/m.exec(head.toString('latin1'))?.[1]
  const map = `/tmp/perf-${pid}.map`
  const ranges = existsSync(map) ? readPerfMap(map) : []
  const out = spawnSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  if (out.status !== 0) throw new Error(`bench: callgrind_annotate failed: ${out.stderr}`)
  const costs = new Map<string, number>()
  for (const line of out.stdout.split('\n')) {
    const match = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/.exec(line)
    if (!match || OUTER_FRAMES.test(match[2]!)) continue
    let name = match[2]!
    const jit = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(name)
    if (jit) {
      const range = rangeOf(ranges, Number.parseInt(jit[1]!, 16))
      name = range ? `JIT ${shortName(range.name)}` : 'JIT (unnamed)'
    } else {
      // A C++ function without its argument list and return type: `v8::internal::Scavenger::ScavengePage`.
      name = cppName(name.replace(/^\?\?\?:/, '').replace(/ \[[^\]]*\]$/, ''))
    }
    costs.set(name, (costs.get(name) ?? 0) + Number(match[1]!.replaceAll(',', '')))
  }
  return [...costs].sort((a, b) => b[1] - a[1])
}

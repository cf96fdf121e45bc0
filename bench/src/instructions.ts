// Instructions per operation of core-vs-backend.ts's paths, counted by callgrind: CPU time per
// operation swings by ±20% between rounds on this 2-core box. Each path runs twice under
// `valgrind --tool=callgrind` (WARM operations, then LOW or HIGH operations, 32 at once);
// (count at HIGH - count at LOW) / (HIGH - LOW) leaves out startup, seeding and the warm-up.
// Printed per operation: the main thread's instructions (the figure to compare), the garbage
// collection among them, and the other threads' (V8's compiler, still at work after the warm-up,
// and the GC's helpers), which swing with timing.
//   STORE=postgres MODE=incr PATHS=core,backend,limit node --import tsx src/instructions.ts
// Needs valgrind (Debian package `valgrind`); about 4 minutes a path, its two runs at once. The
// store's server runs as usual: pin it to core 0 for the CPU figures, not needed for these.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { callgrindNode, requireValgrind, type ThreadCounts, threadCounts } from './callgrind.ts'

const PATH_NAMES = ['core', 'backend', 'limit'] as const
type PathName = (typeof PATH_NAMES)[number]

const paths = (process.env.PATHS ?? PATH_NAMES.join(',')).split(',') as PathName[]
for (const path of paths)
  if (!PATH_NAMES.includes(path)) throw new Error(`bench/instructions: PATHS takes ${PATH_NAMES.join(', ')}`)
const low = Number(process.env.LOW ?? 2000)
const high = Number(process.env.HIGH ?? 8000)
const warm = Number(process.env.WARM ?? 6000)
if (!(high > low && low > 0)) throw new Error('bench/instructions: HIGH must exceed LOW, both above 0')
requireValgrind('instructions')

const script = fileURLToPath(new URL('./core-vs-backend.ts', import.meta.url))
const benchDir = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'sb-instructions-'))

/** One run of `path` under callgrind with `n` measured operations. */
function run(path: PathName, n: number): Promise<ThreadCounts> {
  const file = join(dir, `${path}.${n}.out`)
  const env = { ...process.env, ONLY: path, N: String(n), WARM: String(warm) }
  const args = callgrindNode(file, script)
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', args, { cwd: benchDir, env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(threadCounts(dir, basename(file)))
      else reject(new Error(`bench/instructions: ${path} (N=${n}) exited ${code}: ${stderr}`))
    })
  })
}

/** Per operation: the difference of two runs over the difference of their operations. */
async function perOperation(path: PathName) {
  const [a, b] = await Promise.all([run(path, low), run(path, high)])
  const per = (key: keyof ThreadCounts) => (b[key] - a[key]) / (high - low)
  return { path, main: per('main'), mainGc: per('mainGc'), others: per('others') }
}

const k = (value: number) => `${(value / 1000).toFixed(1)}k`
const store = process.env.STORE ?? 'postgres'
const mode = process.env.MODE ?? 'incr'
console.log(`${store}, ${mode}: instructions per operation (warm ${warm}, runs of ${low} and ${high})`)
console.log(
  '| path | main thread | of which GC | other threads (compiler, GC helpers) |\n|---|---:|---:|---:|',
)
try {
  for (const path of paths) {
    const row = await perOperation(path)
    console.log(`| ${row.path} | ${k(row.main)} | ${k(row.mainGc)} | ${k(row.others)} |`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

// Load and save per second for each backend beside the raw client doing the same round trips.
// The memory backend is measured here (raw: a Map of JSON strings); Redis, memcached, SQL and
// rest-sessions have their own benchmark files (redis.ts, memcached.ts, sql-backends.ts,
// rest-sessions.ts), which this runs one after the other, each in its own process, and collects.
// Run alone: cd bench && npx tsx src/backends.ts   (BENCH_QUICK=1 shortens every file)
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { memoryBackend } from '@sessionbridge/core'

const execFileAsync = promisify(execFile)
const CONCURRENCY = 64

export interface MemoryRow {
  scenario: string
  backendOps: number
  rawOps: number
  ratio: number
}

export interface FileRun {
  file: string
  seconds: number
  ok: boolean
  output: string
}

export interface BackendsResult {
  memory: MemoryRow[]
  files: FileRun[]
}

/** Operations per second with CONCURRENCY calls in flight. */
async function rate(op: () => Promise<unknown>, ms: number): Promise<number> {
  for (let i = 0; i < 1000; i++) await op() // warm-up
  let done = 0
  const started = performance.now()
  const end = started + ms
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await op()
        done++
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

async function memoryRows(ms: number): Promise<MemoryRow[]> {
  const data = { _auth_user_id: '42', theme: 'dark', cart: [{ sku: 'A-1', qty: 2 }], count: 0 }
  const backend = memoryBackend()
  const id = (await backend.create(backend.idFormat.generate(), {
    data,
    expiresAt: Date.now() + 3_600_000,
    userId: '42',
  }))!
  const raw = new Map<string, string>([[id, JSON.stringify(data)]])
  let n = 0
  const pairs: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
    ['load', () => backend.load(id), async () => JSON.parse(raw.get(id)!)],
    [
      'write request (load + save)',
      async () => {
        const record = (await backend.load(id))!
        const count = ++n
        await backend.save(
          id,
          { set: { count }, deleted: [] },
          { ...record, data: { ...record.data, count } },
        )
      },
      async () => {
        const stored = JSON.parse(raw.get(id)!) as Record<string, unknown>
        stored.count = ++n
        raw.set(id, JSON.stringify(stored))
      },
    ],
  ]
  const rows: MemoryRow[] = []
  for (const [scenario, viaBackend, direct] of pairs) {
    const backendOps = await rate(viaBackend, ms)
    const rawOps = await rate(direct, ms)
    rows.push({ scenario, backendOps, rawOps, ratio: backendOps / rawOps })
  }
  return rows
}

/** The per-backend files, with the environment that keeps the whole run near 15 minutes. */
const FILES: { file: string; full: Record<string, string>; quick: Record<string, string> }[] = [
  { file: 'redis.ts', full: {}, quick: {} },
  { file: 'memcached.ts', full: { BENCH_MS: '500' }, quick: { BENCH_MS: '300' } },
  {
    file: 'sql-backends.ts',
    full: { ROUND_MS: '1000', ROUNDS: '3' },
    quick: { ROUND_MS: '800', ROUNDS: '1' },
  },
  { file: 'rest-sessions.ts', full: { BENCH_SECONDS: '1' }, quick: { BENCH_SECONDS: '1' } },
]

/** Runs one bench file in its own process; its printed tables are the result. */
export async function runBenchFile(
  file: string,
  env: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<FileRun> {
  const started = performance.now()
  const path = fileURLToPath(new URL(`./${file}`, import.meta.url))
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), path],
      {
        env: { ...process.env, ...env },
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      },
    )
    const output = `${stdout}${stderr.replace(/^npm warn.*\n?/gm, '')}`.trim()
    return { file, seconds: (performance.now() - started) / 1000, ok: true, output }
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string }
    const output = `${failed.stdout ?? ''}${failed.stderr ?? failed.message}`.trim().slice(-3000)
    return { file, seconds: (performance.now() - started) / 1000, ok: false, output }
  }
}

export async function runBackends(
  quick: boolean,
  log: (line: string) => void = console.error,
): Promise<BackendsResult> {
  log('backends: memory')
  const memory = await memoryRows(quick ? 500 : 1500)
  const files: FileRun[] = []
  for (const { file, full, quick: quickEnv } of FILES) {
    log(`backends: ${file}`)
    files.push(await runBenchFile(file, quick ? quickEnv : full))
  }
  return { memory, files }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runBackends(process.env.BENCH_QUICK === '1')
  console.table(result.memory)
  for (const run of result.files)
    console.log(`\n## ${run.file} (${run.seconds.toFixed(0)} s${run.ok ? '' : ', FAILED'})\n${run.output}`)
}

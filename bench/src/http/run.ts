// HTTP benchmark: each framework bare vs with sessionbridge (memory backend), three scenarios,
// driven by wrk in its own process. Figures are ratios to the bare framework measured in the same
// round; the median of the rounds is reported. Run: cd bench && npx tsx src/http/run.ts
// Env: ROUNDS (3), DURATION seconds (2), CONNECTIONS (32), ONLY (comma-separated frameworks).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { VARIANTS, type Variant } from './variants.ts'

const run = promisify(execFile)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const DURATION = Number(process.env.DURATION ?? 2)
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32)
const ONLY = process.env.ONLY?.split(',')

const SCENARIOS = [
  { name: 'no cookie', path: '/', cookie: false },
  { name: 'read', path: '/read', cookie: true },
  { name: 'write (increment)', path: '/incr', cookie: true },
] as const

async function startChild(variant: Variant): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./server.ts', import.meta.url)), variant.name],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    },
  )
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /READY (\d+)/.exec(out)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', (code) => reject(new Error(`${variant.name} exited with ${code}`)))
  })
  return { child, port }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.stdin!.end()
    setTimeout(() => child.kill('SIGKILL'), 3000).unref()
  })
}

async function wrk(url: string, cookie: string | null, seconds: number): Promise<number> {
  const args = [
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    ...(cookie ? ['-H', `Cookie: ${cookie}`] : []),
    url,
  ]
  const { stdout } = await run('wrk', args)
  const match = /Requests\/sec:\s+([\d.]+)/.exec(stdout)
  if (!match) throw new Error(`wrk said: ${stdout}`)
  if (/Non-2xx/.test(stdout)) throw new Error(`non-2xx answers from ${url}:\n${stdout}`)
  return Number(match[1])
}

async function seedCookie(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/seed`)
  const set = response.headers.getSetCookie()[0]
  // Bare servers set no cookie; they get the same header bytes, so parsing costs are alike.
  return set ? set.split(';')[0]! : `sessionid=${'0'.repeat(32)}`
}

/** Requests per second of one variant in one scenario (after a short warm-up). */
async function measure(port: number, scenario: (typeof SCENARIOS)[number]): Promise<number> {
  const cookie = scenario.cookie ? await seedCookie(port) : null
  const url = `http://127.0.0.1:${port}${scenario.path}`
  await wrk(url, cookie, 1) // warm-up (JIT, pools)
  return wrk(url, cookie, DURATION)
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const frameworks = [...new Set(VARIANTS.map((v) => v.name.split(':')[0]!))].filter(
  (f) => !ONLY || ONLY.includes(f),
)
const rows: string[] = []
const started = Date.now()
for (const framework of frameworks) {
  const variants = VARIANTS.filter((v) => v.name.startsWith(`${framework}:`))
  // All variants run side by side (idle when not measured); measurements alternate between them
  // scenario by scenario, so each ratio compares figures taken seconds apart.
  const servers = await Promise.all(variants.map(startChild))
  const rps = new Map<string, number[][]>(variants.map((v) => [v.name, []]))
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of variants) rps.get(variant.name)!.push([])
      for (const scenario of SCENARIOS) {
        // Odd rounds go in reverse order (ABBA), so a drifting machine favours no variant.
        const order = [...variants.keys()]
        if (round % 2 === 1) order.reverse()
        const figures: number[] = []
        for (const i of order) figures[i] = await measure(servers[i]!.port, scenario)
        for (const [i, variant] of variants.entries()) rps.get(variant.name)!.at(-1)!.push(figures[i]!)
      }
    }
  } finally {
    await Promise.all(servers.map((s) => stop(s.child)))
  }
  for (const variant of variants) {
    const mine = rps.get(variant.name)!
    const base = rps.get(variant.baseline)!
    const cells = SCENARIOS.map((_, i) => {
      const ratio = median(mine.map((round, r) => round[i]! / base[r]![i]!))
      return `${ratio.toFixed(2)} (${(median(mine.map((round) => round[i]!)) / 1000).toFixed(1)}k)`
    })
    rows.push(`| ${variant.name} | ${cells.join(' | ')} |`)
  }
}
console.log(
  `\nwrk -t1 -c${CONNECTIONS} -d${DURATION}s (+1 s warm-up), median of ${ROUNDS} rounds; ratio to bare (req/s)`,
)
console.log(`| variant | ${SCENARIOS.map((s) => s.name).join(' | ')} |`)
console.log(`|---|${SCENARIOS.map(() => '---:').join('|')}|`)
for (const row of rows) console.log(row)
console.log(`(total ${((Date.now() - started) / 1000).toFixed(0)} s)`)

// Django codec and password benchmark, compared with Django 3.2 itself in the same run:
// decode+verify of a typical login session (signed, compressed JSON) and one PBKDF2-SHA256 check at
// 260000 iterations. Run: cd bench && npx tsx src/django-codec.ts
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { djangoCodec, passwordHashers } from '@sessionbridge/django'
import { Bench } from 'tinybench'

const PYTHON = process.env.DJANGO_PYTHON ?? '/usr/bin/python3'
const SCRIPT = fileURLToPath(new URL('../../packages/django/test/django/sbdjango.py', import.meta.url))
const SECRET = 'bench-secret-key-0123456789abcdefghijklmnop'
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-django-'))

/** Sends commands to one Django process (the test suite's driver script) and collects the answers. */
function django(commands: { cmd: string; args?: Record<string, unknown> }[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], {
      env: { ...process.env, SB_DB: `sqlite:${join(dir, 'db.sqlite3')}`, SB_SECRET_KEY: SECRET },
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.once('error', reject)
    child.once('exit', () => {
      const replies = out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { ok: boolean; result: unknown; error?: string })
      const failed = replies.find((r) => !r.ok)
      if (failed || replies.length !== commands.length) reject(new Error(`django: ${failed?.error ?? out}`))
      else resolve(replies.map((r) => r.result))
    })
    child.stdin.end(`${commands.map((c) => JSON.stringify(c)).join('\n')}\n`)
  })
}

const loginSession = {
  _auth_user_id: '42',
  _auth_user_backend: 'django.contrib.auth.backends.ModelBackend',
  _auth_user_hash: 'c0ffee'.repeat(10).slice(0, 64),
  _session_expiry: 1209600,
  cart: ['book-1', 'book-2'],
}
const [stored] = (await django([{ cmd: 'encode', args: { data: loginSession } }])) as [string]
const codec = djangoCodec({ secretKey: SECRET })
// The first read of a session (no cache): inflate + HMAC every time.
const uncached = djangoCodec({ secretKey: SECRET, cacheSize: 0 })
if (JSON.stringify(await codec.decode(stored)) !== JSON.stringify(loginSession))
  throw new Error('decode mismatch')
const hashers = passwordHashers()
const encoded = await hashers.make('correct horse battery staple')

const PBKDF2_RUNS = 8
const [djangoDecode, djangoCheck] = (await django([
  { cmd: 'time_decode', args: { session_data: stored, n: 20000 } },
  { cmd: 'time_check_password', args: { password: 'correct horse battery staple', n: PBKDF2_RUNS } },
])) as [number, number]

const bench = new Bench({ time: 2000, warmupTime: 300 })
bench.add('node: decode+verify login session', async () => {
  await uncached.decode(stored)
})
bench.add('node: repeated read of the same session (decode cache)', async () => {
  await codec.decode(stored)
})
bench.add('node: encode login session', async () => {
  await codec.encode(loginSession)
})
await bench.run()

const pbkdf2Times: number[] = []
for (let i = 0; i < PBKDF2_RUNS; i++) {
  const start = performance.now()
  await hashers.check('correct horse battery staple', encoded)
  pbkdf2Times.push(performance.now() - start)
}
const nodePbkdf2 = pbkdf2Times.reduce((a, b) => a + b, 0) / PBKDF2_RUNS

const opsOf = (name: string) => {
  const r = bench.tasks.find((t) => t.name === name)?.result as { throughput?: { mean: number } } | undefined
  return r?.throughput?.mean ?? 0
}
const nodeDecodeOps = opsOf('node: decode+verify login session')
const djangoDecodeOps = 1 / djangoDecode
console.log(`session_data: ${stored.length} chars (${stored.startsWith('.') ? 'compressed' : 'plain'})`)
console.table([
  {
    measure: 'decode+verify login session (ops/s)',
    sessionbridge: Math.round(nodeDecodeOps),
    'django 3.2': Math.round(djangoDecodeOps),
    'ratio (sb / django)': Number((nodeDecodeOps / djangoDecodeOps).toFixed(2)),
  },
  {
    measure: 'repeated read, decode cache (ops/s)',
    sessionbridge: Math.round(opsOf('node: repeated read of the same session (decode cache)')),
    'django 3.2': Math.round(djangoDecodeOps),
    'ratio (sb / django)': Number(
      (opsOf('node: repeated read of the same session (decode cache)') / djangoDecodeOps).toFixed(2),
    ),
  },
  {
    measure: 'encode login session (ops/s)',
    sessionbridge: Math.round(opsOf('node: encode login session')),
    'django 3.2': '-',
    'ratio (sb / django)': '-',
  },
  {
    measure: 'PBKDF2-SHA256 check, 260000 it. (ms)',
    sessionbridge: Number(nodePbkdf2.toFixed(1)),
    'django 3.2': Number((djangoCheck * 1000).toFixed(1)),
    'ratio (sb / django)': Number((nodePbkdf2 / (djangoCheck * 1000)).toFixed(2)),
  },
])
console.log(`node ${process.version}, ${new Date().toISOString()}`)
rmSync(dir, { recursive: true, force: true })

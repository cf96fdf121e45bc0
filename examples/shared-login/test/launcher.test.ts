/**
 * Issue 14.1: `pnpm start` (src/main.ts) ends its children whenever it exits (a signal, an uncaught
 * exception, an unhandled rejection, even SIGKILL), so starting again on the same ports works.
 * Each run is the real entry point in its own process, with Django under gunicorn.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { djangoInstalled } from '../src/django.ts'

const EXAMPLE_DIR = fileURLToPath(new URL('../', import.meta.url))
const PRELOAD = fileURLToPath(new URL('./fixtures/crash-on-signal.mjs', import.meta.url))
const djangoHere = await djangoInstalled()

/** `count` ports that are free right now. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const server = createServer()
          server.listen(0, '127.0.0.1', () => resolve(server))
        }),
    ),
  )
  const ports = servers.map((s) => (s.address() as { port: number }).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

/** Waits until no port answers; returns those still answering after `ms`. */
async function waitAllClosed(ports: number[], ms = 15_000): Promise<number[]> {
  const deadline = Date.now() + ms
  for (;;) {
    const open = (await Promise.all(ports.map(async (p) => ((await listening(p)) ? p : null)))).filter(
      (p): p is number => p !== null,
    )
    if (open.length === 0 || Date.now() > deadline) return open
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

interface Started {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

/** Runs `src/main.ts` and resolves once it has printed that every app listens. */
function start(env: Record<string, string>, crashKind = 'exception'): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', PRELOAD, 'src/main.ts'], {
    cwd: EXAMPLE_DIR,
    env: { ...process.env, ...env, CRASH_KIND: crashKind, CI: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 90 s:\n${output}`)), 90_000)
    child.stdout!.on('data', () => {
      if (!output.includes('Log in on any of them')) return
      clearTimeout(timer)
      resolve({ child, output: () => output, exited })
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited (${code}) before it started:\n${output}`))
    })
  })
}

describe.skipIf(!djangoHere)('the launcher (pnpm start)', () => {
  let dir: string
  let env: Record<string, string>
  let ports: number[]
  const running: ChildProcess[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-launcher-'))
    ports = await freePorts(5)
    env = {
      SECRET_KEY: 'launcher-test-secret-key-0123456789abcdef',
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite3')}`,
      SESSION_BACKEND: 'sql',
      FASTIFY_PORT: String(ports[0]),
      KOA_PORT: String(ports[1]),
      HONO_PORT: String(ports[2]),
      DJANGO_PORT: String(ports[3]),
      EXPRESS_PORT: String(ports[4]),
    }
  })
  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  const run = async (crashKind?: string) => {
    const started = await start(env, crashKind)
    running.push(started.child)
    expect(started.output()).toContain(`Django   http://127.0.0.1:${ports[3]}/`)
    for (const port of ports) expect(await listening(port), `port ${port} after start`).toBe(true)
    const whoami = await fetch(`http://127.0.0.1:${ports[3]}/whoami`)
    expect(whoami.status, 'Django answers').toBe(200)
    return started
  }

  it('an uncaught exception ends every app and Django; a restart on the same ports works', async () => {
    const first = await run('exception')
    first.child.kill('SIGUSR2')
    expect(await first.exited).toBe(1)
    expect(first.output()).toContain('simulated uncaught exception')
    expect(await waitAllClosed(ports), 'ports still held after the crash').toEqual([])
  })

  it('an unhandled rejection does the same', async () => {
    const second = await run('rejection')
    second.child.kill('SIGUSR2')
    expect(await second.exited).toBe(1)
    expect(second.output()).toContain('simulated unhandled rejection')
    expect(await waitAllClosed(ports), 'ports still held after the crash').toEqual([])
  })

  it('SIGKILL, which no handler sees: Django notices its parent is gone and stops', async () => {
    const third = await run()
    third.child.kill('SIGKILL')
    await third.exited
    expect(await waitAllClosed(ports), 'ports still held after SIGKILL').toEqual([])
  })

  it('SIGTERM stops everything cleanly (exit code 0)', async () => {
    const fourth = await run()
    fourth.child.kill('SIGTERM')
    expect(await fourth.exited).toBe(0)
    expect(await waitAllClosed(ports)).toEqual([])
  })
})

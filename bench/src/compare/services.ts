// The services a comparison run needs: a private Redis (so `INFO commandstats` counts only this
// benchmark's commands while other suites use the shared one), a database of the run's own
// (`sb_bench_<pid>_<random>`, dropped by `stop()`) on PostgreSQL and on MariaDB, a directory for
// the SQLite files, the
// shared memcached, and a rest-sessions server in its own process on the private Redis.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { pinServices } from './pinning.ts'

export async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${what} did not come up within ${ms} ms`)
}

export interface BenchServices {
  /** Environment for the server processes (`SB_BENCH_*`). */
  env: Record<string, string>
  redisUrl: string
  /** Why a store cannot be measured (service down), by store name. */
  missing: Map<string, string>
  notes: string[]
  stop(): Promise<void>
}

export async function startServices(): Promise<BenchServices> {
  const children: ChildProcess[] = []
  const missing = new Map<string, string>()
  const notes: string[] = []
  let redisPort = 6379
  if (existsSync('/usr/bin/redis-server') && !process.env.SB_BENCH_REDIS_URL) {
    redisPort = await freePort()
    const redis = spawn(
      '/usr/bin/redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    children.push(redis)
    await waitFor(() => reachable('127.0.0.1', redisPort), 'redis-server')
    notes.push(
      `Redis: a private redis-server on port ${redisPort}, so INFO commandstats counts this benchmark only`,
    )
  }
  const redisUrl = process.env.SB_BENCH_REDIS_URL ?? `redis://127.0.0.1:${redisPort}`
  const redisHost = new URL(redisUrl)
  if (!(await reachable(redisHost.hostname, Number(redisHost.port || 6379))))
    missing.set('redis', `no Redis at ${redisUrl}`)

  const memcached = process.env.SB_BENCH_MEMCACHED ?? '127.0.0.1:11211'
  const [mcHost, mcPort] = memcached.split(':')
  if (!(await reachable(mcHost ?? '127.0.0.1', Number(mcPort ?? 11211))))
    missing.set('memcached', `no memcached at ${memcached}`)

  const adminUrl = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const pgUrl = new URL(adminUrl)
  // Other runs share the server: a name of our own, so nobody drops or fills our tables.
  const database = `sb_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  pgUrl.pathname = `/${database}`
  let created = false
  try {
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${database}`)
    created = true
    await admin.end()
  } catch (error) {
    missing.set('postgres', `PostgreSQL unavailable (${(error as Error).message})`)
  }

  const mariadbAdmin = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/mysql'
  const mariadbUrl = new URL(mariadbAdmin)
  mariadbUrl.pathname = `/${database}`
  let mariadbCreated = false
  try {
    const admin = await mysql.createConnection(mariadbAdmin)
    await admin.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4`).finally(() => admin.end())
    mariadbCreated = true
  } catch (error) {
    missing.set('mariadb', `MariaDB unavailable (${(error as Error).message})`)
  }
  const sqliteDir = mkdtempSync(join(tmpdir(), 'sb-bench-sqlite-'))

  const rsPort = await freePort()
  const rsBin = fileURLToPath(
    new URL('../../../packages/rest-sessions-server/bin/rest-sessions-server.mjs', import.meta.url),
  )
  if (missing.has('redis')) missing.set('rest-sessions', 'its server needs Redis')
  else {
    const rs = spawn(process.execPath, [rsBin], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        RS_PORT: String(rsPort),
        RS_REDISHOST: redisHost.hostname,
        RS_REDISPORT: redisHost.port || '6379',
        RS_NAMESPACE: 'sbbench',
        RS_LOGLEVEL: 'none',
      },
      stdio: 'ignore',
    })
    children.push(rs)
    try {
      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${rsPort}/ping`).then(
            (r) => r.ok,
            () => false,
          ),
        'rest-sessions-server',
      )
      notes.push(
        'rest-sessions: the sessionbridge rest-sessions-server in its own process, on the same Redis',
      )
    } catch (error) {
      missing.set('rest-sessions', (error as Error).message)
    }
  }

  const cores = await pinServices(children.map((child) => child.pid).filter((pid) => pid !== undefined))
  if (cores.note) notes.push(cores.note)

  return {
    env: {
      SB_BENCH_REDIS_URL: redisUrl,
      SB_BENCH_MEMCACHED: memcached,
      SB_BENCH_PG_URL: pgUrl.toString(),
      SB_BENCH_RS_URL: `http://127.0.0.1:${rsPort}`,
      SB_BENCH_MARIADB_URL: mariadbUrl.toString(),
      SB_BENCH_SQLITE_DIR: sqliteDir,
    },
    redisUrl,
    missing,
    notes,
    async stop() {
      await cores.restore()
      for (const child of children.reverse()) {
        if (child.exitCode !== null) continue
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))])
      }
      if (created) {
        const admin = new pg.Client({ connectionString: adminUrl })
        await admin.connect()
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => admin.end())
      }
      if (mariadbCreated) {
        const admin = await mysql.createConnection(mariadbAdmin)
        await admin.query(`DROP DATABASE IF EXISTS ${database}`).finally(() => admin.end())
      }
      rmSync(sqliteDir, { recursive: true, force: true })
    },
  }
}

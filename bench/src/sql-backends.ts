// Session load+save per second on each database: sessionbridge's SQL backend against the peer,
// connect-pg-simple (express-session's PostgreSQL store), measured in the same run.
// One "op" = read a session, then write one changed key back (what a request that changes the
// session costs the store). 16 concurrent workers over 1,000 sessions, pools of 10 connections.
// Rounds interleave the targets so drift hits all of them alike; the median round is reported.
// Run: cd /work/main/bench && npx tsx src/sql-backends.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jsonCodec, type SessionBackend } from '@sessionbridge/core'
import {
  djangoTableDdl,
  migrate,
  mysqlClient,
  pgClient,
  type SqlClient,
  sqlBackend,
  sqliteClient,
} from '@sessionbridge/sql'
import Database from 'better-sqlite3'
import connectPgSimple from 'connect-pg-simple'
import session from 'express-session'
import mysql from 'mysql2/promise'
import pg from 'pg'

const SESSIONS = 1000
const WORKERS = 16
const ROUND_MS = Number(process.env.ROUND_MS ?? 3000)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const PG_URL = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const MARIADB_URL = process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/mysql'
const HOUR = 3_600_000

/** One step of the workload on session number `i`. */
type Op = (i: number) => Promise<void>
interface Target {
  name: string
  op: Op
}

const withDb = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString()

// A database of this run's own on both servers (other runs share them), dropped at the end.
const DB = `sb_bench_sql_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
const admin = new pg.Client({ connectionString: PG_URL })
await admin.connect()
await admin.query(`CREATE DATABASE ${DB}`)
await admin.end()
const mysqlAdmin = await mysql.createConnection(MARIADB_URL)
await mysqlAdmin.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4`)
await mysqlAdmin.end()

const pgPool = new pg.Pool({ connectionString: withDb(PG_URL, DB), max: 10 })
const cpsPool = new pg.Pool({ connectionString: withDb(PG_URL, DB), max: 10 })
const mariaPool = mysql.createPool({ uri: withDb(MARIADB_URL, DB), connectionLimit: 10 })
const dir = mkdtempSync(join(tmpdir(), 'sb-bench-sql-'))
const sqlite = new Database(join(dir, 'bench.db'))
sqlite.pragma('journal_mode = WAL')
sqlite.pragma('synchronous = NORMAL')

/** A sessionbridge target: fresh table, SESSIONS sessions, op = load + save of one key. */
async function sessionbridge(name: string, client: SqlClient, layout: 'native' | 'django'): Promise<Target> {
  const table = `sbt_bench_${layout}`
  await client.query(`DROP TABLE IF EXISTS ${table}`)
  if (layout === 'native') await migrate(client, { layout, table })
  else for (const statement of djangoTableDdl(client.dialect, table)) await client.query(statement)
  const backend: SessionBackend = sqlBackend({
    client,
    layout,
    table,
    ...(layout === 'django' ? { codec: jsonCodec } : {}),
  })
  const ids: string[] = []
  for (let i = 0; i < SESSIONS; i++) {
    const data = {
      _auth_user_id: String(i),
      _sb_created: Math.floor(Date.now() / 1000),
      count: 0,
      theme: 'dark',
    }
    ids.push(
      (await backend.create(backend.idFormat.generate(), {
        data,
        expiresAt: Date.now() + HOUR,
        userId: String(i),
      }))!,
    )
  }
  return {
    name,
    async op(i) {
      const id = ids[i % SESSIONS]!
      const record = await backend.load(id)
      if (!record) throw new Error('session vanished')
      const count = (record.data.count as number) + 1
      const data = { ...record.data, count }
      await backend.save(
        id,
        { set: { count }, deleted: [] },
        { ...record, data, expiresAt: Date.now() + HOUR },
      )
    },
  }
}

/** The peer: connect-pg-simple's get + set, as express-session calls them for a changed session. */
async function connectPgSimpleTarget(): Promise<Target> {
  const PgStore = connectPgSimple(session)
  await cpsPool.query('DROP TABLE IF EXISTS sbt_bench_cps')
  const store = new PgStore({
    pool: cpsPool,
    tableName: 'sbt_bench_cps',
    createTableIfMissing: true,
    pruneSessionInterval: false,
  })
  const get = (sid: string) =>
    new Promise<session.SessionData | null | undefined>((resolve, reject) =>
      store.get(sid, (error, value) => (error ? reject(error) : resolve(value))),
    )
  const set = (sid: string, value: session.SessionData) =>
    new Promise<void>((resolve, reject) =>
      store.set(sid, value, (error) => (error ? reject(error) : resolve())),
    )
  const cookie = () => ({
    originalMaxAge: HOUR,
    expires: new Date(Date.now() + HOUR),
    httpOnly: true,
    path: '/',
  })
  for (let i = 0; i < SESSIONS; i++) {
    await set(`cps-${i}`, {
      cookie: cookie(),
      _auth_user_id: String(i),
      count: 0,
      theme: 'dark',
    } as session.SessionData)
  }
  return {
    name: 'connect-pg-simple 10 / PostgreSQL (pg)',
    async op(i) {
      const sid = `cps-${i % SESSIONS}`
      const value = (await get(sid)) as (session.SessionData & { count: number }) | null
      if (!value) throw new Error('session vanished')
      await set(sid, { ...value, count: value.count + 1, cookie: cookie() } as session.SessionData)
    },
  }
}

/** Ops per second of `target` with WORKERS concurrent loops for ROUND_MS. */
async function measure(target: Target): Promise<number> {
  let next = 0
  let done = 0
  const until = performance.now() + ROUND_MS
  const started = performance.now()
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (performance.now() < until) {
        await target.op(next++)
        done++
      }
    }),
  )
  return done / ((performance.now() - started) / 1000)
}

const targets = [
  await connectPgSimpleTarget(),
  await sessionbridge('sessionbridge native / PostgreSQL (pg)', pgClient(pgPool), 'native'),
  await sessionbridge('sessionbridge django layout / PostgreSQL (pg)', pgClient(pgPool), 'django'),
  await sessionbridge('sessionbridge native / MariaDB (mysql2)', mysqlClient(mariaPool), 'native'),
  await sessionbridge('sessionbridge django layout / MariaDB (mysql2)', mysqlClient(mariaPool), 'django'),
  await sessionbridge('sessionbridge native / SQLite (better-sqlite3, WAL)', sqliteClient(sqlite), 'native'),
  await sessionbridge(
    'sessionbridge django layout / SQLite (better-sqlite3, WAL)',
    sqliteClient(sqlite),
    'django',
  ),
]
for (const target of targets) await measure({ ...target, op: target.op }) // warm-up: pools, plans, JIT

const results = new Map<string, number[]>(targets.map((t) => [t.name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const target of targets) results.get(target.name)!.push(await measure(target))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const peer = median(results.get(targets[0]!.name)!)
console.log(
  `\nsession load+save per second (${WORKERS} workers, ${SESSIONS} sessions, median of ${ROUNDS} x ${ROUND_MS} ms)`,
)
console.log('| target | ops/s | vs connect-pg-simple |\n|---|---:|---:|')
for (const target of targets) {
  const value = median(results.get(target.name)!)
  console.log(`| ${target.name} | ${value.toFixed(0)} | ${(value / peer).toFixed(2)} |`)
}

await pgPool.end()
await cpsPool.end()
await mariaPool.end()
{
  const dropPg = new pg.Client({ connectionString: PG_URL })
  await dropPg.connect()
  await dropPg.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)
  await dropPg.end()
  const dropMaria = await mysql.createConnection(MARIADB_URL)
  await dropMaria.query(`DROP DATABASE IF EXISTS ${DB}`)
  await dropMaria.end()
}
sqlite.close()
rmSync(dir, { recursive: true, force: true })

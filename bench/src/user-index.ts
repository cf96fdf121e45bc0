// What "log out everywhere" costs per request: the memcached user index, and the SQL Django
// layout's user table (SQLite, in-process), each against the same backend without it. Sequential
// calls (one at a time, so the figure is latency, not throughput), median of all calls.
// Run: cd bench && npx tsx src/user-index.ts   (MEMCACHED_SERVER=host:port, default 127.0.0.1:11211)
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { djangoIdFormat, type SessionBackend, type SessionCodec } from '@sessionbridge/core'
import { createMemcachedClient, memcachedBackend } from '@sessionbridge/memcached'
import { djangoTableDdl, migrateUserTable, sqlBackend, sqliteClient } from '@sessionbridge/sql'
import Database from 'better-sqlite3'

const N = Number(process.env.BENCH_N ?? 2000)
const HOUR = 3_600_000

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
async function timed(fn: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < N; i++) {
    const started = performance.now()
    await fn(i)
    times.push(performance.now() - started)
  }
  return median(times) * 1000 // µs
}

/** login (create with a user), load, save (user unchanged), destroy: µs per call, median. */
async function measure(backend: SessionBackend): Promise<Record<string, number>> {
  const users = Array.from({ length: 50 }, (_, i) => `bench-${i}`) // 40 logins per user
  const ids: string[] = []
  const rec = (user: string | null) => ({
    data: user ? { _auth_user_id: user, n: 1 } : { n: 1 },
    expiresAt: Date.now() + HOUR,
    userId: user,
  })
  const login = await timed(async (i) => {
    const id = backend.idFormat.generate()
    ids.push(id)
    await backend.create(id, rec(users[i % users.length]!))
  })
  const anonymous = await timed(() => backend.create(backend.idFormat.generate(), rec(null)))
  const load = await timed((i) => backend.load(ids[i]!))
  const save = await timed((i) =>
    backend.save(ids[i]!, { set: { n: i }, deleted: [] }, rec(users[i % users.length]!)),
  )
  const destroy = await timed((i) => backend.destroy(ids[i]!))
  return { login, anonymous, load, save, destroy }
}

function print(title: string, rows: Record<string, Record<string, number>>) {
  console.log(`\n${title} (median µs per call, ${N} calls each)`)
  const ops = Object.keys(Object.values(rows)[0]!)
  console.log(['', ...ops].join('\t'))
  for (const [name, row] of Object.entries(rows))
    console.log([name, ...ops.map((op) => row[op]!.toFixed(0))].join('\t'))
}

const server = process.env.MEMCACHED_SERVER ?? '127.0.0.1:11211'
const client = createMemcachedClient({ servers: [server] })
const prefix = () => `sbbench:${randomBytes(4).toString('hex')}:`
const quiet = { warn() {} }
await measure(memcachedBackend({ client, prefix: prefix(), logger: quiet })) // warm-up, not shown
print(`memcached ${server}`, {
  'no index': await measure(memcachedBackend({ client, prefix: prefix(), userIndex: false, logger: quiet })),
  'user index': await measure(memcachedBackend({ client, prefix: prefix(), logger: quiet })),
})
await client.close()

const codec: SessionCodec = {
  name: 'json',
  idFormat: djangoIdFormat,
  encode: async (data) => JSON.stringify(data),
  decode: async (text) => JSON.parse(text) as Record<string, unknown>,
}
const db = new Database(join(mkdtempSync(join(tmpdir(), 'sb-bench-')), 'sessions.db'))
db.pragma('journal_mode = WAL')
const sqlite = sqliteClient(db)
for (const statement of djangoTableDdl('sqlite', 'django_session')) await sqlite.query(statement)
await migrateUserTable(sqlite)
await measure(sqlBackend({ client: sqlite, layout: 'django', codec })) // warm-up, not shown
print('SQLite, django layout', {
  'no user table': await measure(sqlBackend({ client: sqlite, layout: 'django', codec })),
  'user table': await measure(
    sqlBackend({ client: sqlite, layout: 'django', codec, userTable: 'sessionbridge_session_user' }),
  ),
})
db.close()

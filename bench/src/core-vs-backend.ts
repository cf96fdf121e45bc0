// Where a store's increment (or read) CPU goes, in-process and without HTTP: 32 concurrent callers
// each run the request's path three ways, in rounds (each begun by the next path), over 256
// seeded sessions:
//   core     the session manager: open (signed cookie), get, [set,] commit, as a handler does
//   backend  the backend alone: `load`, [`save` of the same change set], no cookie, no manager
//   limit    the raw round trips of the store's limit row (compare/limits.ts)
// prints CPU µs per operation (user + system, and user) for each, and the µs of garbage collection
// pauses per operation (steadier than CPU on this box). `core - backend` is what the lifecycle
// costs on that store; `backend - limit` what the backend adds to the raw round trips.
//   STORE=postgres MODE=incr|read N=5000 ROUNDS=4 taskset -c 1 node --import tsx src/core-vs-backend.ts
// ONLY=core|backend|limit runs that path alone, WARM (default 2000) operations and then N, for an
// instruction count: two runs under `valgrind --tool=callgrind` with different N, and the
// difference of their totals over the difference of N (warm with 6000: TurboFan's compiles,
// which a count includes, take that long under valgrind to settle).
// STORE=memory-async: the memory backend behind one `setImmediate` per call (a store that yields
// to the event loop without a peer's noise; its limit stays the plain `Map`). Pin the database to
// the other core (`taskset -a -p -c 0 <pid>`): a database sharing the measured core swings every
// figure.
import { PerformanceObserver } from 'node:perf_hooks'
import { createSessionManager, memoryBackend, type SessionBackend } from '@sessionbridge/core'
import { type LimitStore, openLimit } from './compare/limits.ts'
import { openStore, type StoreName } from './compare/stores.ts'

const SESSIONS = 256
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32)
const storeName = process.env.STORE ?? 'postgres'
const increment = (process.env.MODE ?? 'incr') === 'incr'
const n = Number(process.env.N ?? 5000)
const rounds = Number(process.env.ROUNDS ?? 4)

/** The memory backend, each load and save first yielding one turn of the event loop. */
function yieldingMemory(): SessionBackend {
  const backend = memoryBackend({ maxEntries: 100_000 })
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  return {
    ...backend,
    async load(id) {
      await turn()
      return backend.load(id)
    },
    async save(id, changes, record) {
      await turn()
      return backend.save(id, changes, record)
    },
  }
}

const counter = { calls: 0 }
const yielding = storeName === 'memory-async'
const opened = yielding
  ? { backend: yieldingMemory(), close: async () => {} }
  : await openStore(storeName as StoreName, counter)
const limit: LimitStore = await openLimit(yielding ? 'memory' : (storeName as StoreName), counter)
const backend = opened.backend
const manager = createSessionManager<{ count: number }>({
  backend,
  secrets: ['bench-secret-0123456789abcdef'],
  // Under valgrind (instructions.ts) a call can take seconds; the deadline queue runs all the same.
  timeout: 120_000,
})

const cookies: string[] = []
const ids: string[] = []
const keys: string[] = []
const expiresAt = () => Date.now() + 14 * 24 * 3600 * 1000
for (let i = 0; i < SESSIONS; i++) {
  const session = await manager.open({})
  session.set('count', 0)
  cookies.push((await session.commit()).setCookie!.split(';')[0]!)
  const id = await backend.create(backend.idFormat!.generate(), {
    data: { count: 0 },
    expiresAt: expiresAt(),
    userId: null,
  })
  if (id === null) throw new Error('could not seed a session')
  ids.push(id)
  keys.push(await limit.seed())
}

const paths: Record<'core' | 'backend' | 'limit', (i: number) => Promise<void>> = {
  async core(i) {
    const session = await manager.open({ cookie: cookies[i % SESSIONS] })
    const count = (await session.get('count')) ?? 0
    if (increment) session.set('count', count + 1)
    await session.commit()
  },
  async backend(i) {
    const id = ids[i % SESSIONS]!
    const record = await backend.load(id)
    if (!record) throw new Error('a seeded session is gone')
    if (!increment) return
    const count = (record.data.count as number) + 1
    const changes = { set: { count }, deleted: [], read: { count: JSON.stringify(record.data.count) } }
    const data = { ...record.data, count }
    if (!(await backend.save(id, changes, { ...record, data, expiresAt: expiresAt() })))
      throw new Error('a save found no session')
  },
  async limit(i) {
    const key = keys[i % SESSIONS]!
    const count = (await limit.read(key)) ?? 0
    if (increment) await limit.write(key, count + 1)
  },
}

/** Milliseconds of garbage collection pauses so far (entries arrive after their pause). */
const paused = { ms: 0 }
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) paused.ms += entry.duration
}).observe({ entryTypes: ['gc'] })
const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

/** CPU µs per operation of `n` operations, CONCURRENCY at a time, and GC pause µs per operation. */
async function measure(path: (i: number) => Promise<void>, count: number) {
  let next = 0
  const caller = async () => {
    while (next < count) await path(next++)
  }
  await settle()
  const gcBefore = paused.ms
  const start = process.cpuUsage()
  await Promise.all(Array.from({ length: CONCURRENCY }, caller))
  const used = process.cpuUsage(start)
  await settle()
  const gc = ((paused.ms - gcBefore) * 1000) / count
  return `${((used.user + used.system) / count).toFixed(1)} (user ${(used.user / count).toFixed(1)}, gc ${gc.toFixed(1)})`
}

const only = process.env.ONLY as keyof typeof paths | undefined
if (only !== undefined) {
  if (!(only in paths)) throw new Error(`ONLY: one of ${Object.keys(paths).join(', ')}`)
  await measure(paths[only], Number(process.env.WARM ?? 2000))
  console.log(`${storeName}, ${increment ? 'increment' : 'read'}, ${only}: ${await measure(paths[only], n)}`)
  await opened.close()
  await limit.close()
  process.exit(0)
}
for (const path of Object.values(paths)) await measure(path, 2000) // warm-up
console.log(
  `${storeName}, ${increment ? 'increment' : 'read'}: CPU µs per operation (user, gc pauses), ${n} each`,
)
const names = Object.keys(paths) as (keyof typeof paths)[]
for (let round = 0; round < rounds; round++) {
  // Each round starts with another path: what runs first after a pause would otherwise always pay it.
  const figures = new Map<string, string>()
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length]!
    figures.set(name, await measure(paths[name], n))
  }
  console.log(names.map((name) => `${name} ${figures.get(name)}`).join('   '))
}
await opened.close()
await limit.close()

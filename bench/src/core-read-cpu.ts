// The core read path alone (signed cookie, memory backend: open + get + commit), N times after W
// warm-up rounds; prints CPU µs per read. On a shared machine, count instructions instead (the
// same at any load): run it under callgrind with two N and divide the difference, e.g.
//   N=10000 W=2000 valgrind --tool=callgrind node --single-threaded --import tsx src/core-read-cpu.ts
//   N=30000 W=2000 valgrind ...   → (collected(30000) - collected(10000)) / 20000 instructions per read
// `--single-threaded` keeps V8's compiler and GC threads out: with them, two runs of one build
// differed by 27%, without them by < 1%. Runs on the built packages (`pnpm build`); the source
// condition would add tsx's helpers to every function.
// WARM_STORES=redis,sqlite,...: first run WARM_OPS (20,000) of the same path on each of those
// backends (compare/stores.ts) in this process, as a benchmark server holding several stores would:
// core's calls into the backend then see several shapes.
import { createSessionManager, memoryBackend, type SessionBackend } from '@sessionbridge/core'

// SESSIONS=20000: more returning visitors than a signer remembers (10,000), so every request
// verifies its cookie's signature (Web Crypto's path remembers; Node's crypto computes each time)
const sessions = Number(process.env.SESSIONS ?? 256)
// INCR=1: the increment path instead (read, write back, commit with a Set-Cookie)
const incr = process.env.INCR === '1'

/** Seeds `sessions` sessions on `backend`; answers one request's path (open, get, [set,] commit). */
async function requestsOn(backend: SessionBackend) {
  const manager = createSessionManager<{ count: number }>({
    backend,
    secrets: ['bench-secret-0123456789abcdef'],
  })
  const cookies: string[] = []
  for (let i = 0; i < sessions; i++) {
    const session = await manager.open({})
    session.set('count', i)
    cookies.push((await session.commit()).setCookie!.split(';')[0]!)
  }
  return async (i: number) => {
    const session = await manager.open({ cookie: cookies[i % sessions] })
    const count = await session.get('count')
    if (incr) session.set('count', (count ?? 0) + 1)
    await session.commit()
  }
}

const closers: (() => Promise<void>)[] = []
for (const name of (process.env.WARM_STORES ?? '').split(',').filter(Boolean)) {
  const { openStore } = await import('./compare/stores.ts')
  const store = await openStore(name as Parameters<typeof openStore>[0], { calls: 0 })
  closers.push(store.close)
  const other = await requestsOn(store.backend)
  for (let i = 0; i < Number(process.env.WARM_OPS ?? 20_000); i++) await other(i)
}
const read = await requestsOn(memoryBackend({ maxEntries: 100_000 }))
for (let i = 0; i < Number(process.env.W ?? 50_000); i++) await read(i)
const n = Number(process.env.N ?? 200_000)
const before = process.cpuUsage()
for (let i = 0; i < n; i++) await read(i)
const used = process.cpuUsage(before)
console.log(
  `${((used.user + used.system) / Math.max(1, n)).toFixed(2)} µs CPU per ${incr ? 'increment' : 'read'} (N=${n})`,
)
for (const close of closers) await close()

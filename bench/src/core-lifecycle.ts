// Micro-benchmark of the core lifecycle per request on the memory backend: what the session layer
// itself costs, without a framework or network. Run: pnpm --filter @sessionbridge/bench bench:core
import { createSessionManager, memoryBackend } from '@sessionbridge/core'
import { Bench } from 'tinybench'

const backend = memoryBackend({ maxEntries: 100_000 })
const plain = createSessionManager<{ count: number }>({ backend })
const signed = createSessionManager<{ count: number }>({
  backend,
  secrets: ['bench-secret-0123456789abcdef'],
})

async function cookieFor(manager: typeof plain): Promise<string> {
  const session = await manager.open({})
  session.set('count', 0)
  return (await session.commit()).setCookie!.split(';')[0]!
}
const plainCookie = await cookieFor(plain)
const signedCookie = await cookieFor(signed)

const bench = new Bench({ time: 1500, warmupTime: 300 })
for (const [label, manager, cookie] of [
  ['unsigned', plain, plainCookie],
  ['signed', signed, signedCookie],
] as const) {
  bench
    .add(`${label}: no cookie, session untouched`, async () => {
      const session = await manager.open({ cookie: 'theme=dark' })
      await session.commit()
    })
    .add(`${label}: read one value`, async () => {
      const session = await manager.open({ cookie })
      await session.get('count')
      await session.commit()
    })
    .add(`${label}: increment a counter`, async () => {
      const session = await manager.open({ cookie })
      session.set('count', ((await session.get('count')) ?? 0) + 1)
      await session.commit()
    })
}
await bench.run()

const rows = bench.tasks.map((t) => {
  const r = t.result as
    | { throughput?: { mean: number }; latency?: { p50?: number; p99?: number } }
    | undefined
  return {
    scenario: t.name,
    'ops/s': Math.round(r?.throughput?.mean ?? 0),
    'p50 (us)': Number(((r?.latency?.p50 ?? 0) * 1000).toFixed(2)),
    'p99 (us)': Number(((r?.latency?.p99 ?? 0) * 1000).toFixed(2)),
  }
})
console.table(rows)
console.log(`node ${process.version}, ${new Date().toISOString()}`)

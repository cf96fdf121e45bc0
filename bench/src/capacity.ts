// The in-process stores when full (issue 22): CPU per insert once memoryBackend, the memory
// attempt store and the memory ticket store hold their maximum, at FULL entries (default 10,000;
// try 100000). Before MapCapacity, each insert past the limit walked the whole map:
//   cd bench && FULL=100000 node --import tsx src/capacity.ts
import { memoryAttemptStore, memoryBackend, memoryTicketStore } from '@sessionbridge/core'

const N = Number(process.env.FULL ?? 10000)
const rec = () => ({ data: { a: 1 }, expiresAt: Date.now() + 3_600_000, userId: null })
const b = memoryBackend({ maxEntries: N })
const ids: string[] = []
for (let i = 0; i < N; i++) ids.push((await b.create(b.idFormat.generate(), rec()))!)
// Reads (each moves its session to the end) and new sessions past the limit, in turns.
let t = process.cpuUsage()
for (let i = 0; i < 20000; i++) {
  await b.load(ids[(i * 7919) % N]!)
  await b.create(b.idFormat.generate(), rec())
}
let u = process.cpuUsage(t)
console.log(`memory backend full (${N}): ${((u.user + u.system) / 20000).toFixed(2)} µs per load+create`)
const a = memoryAttemptStore({ maxKeys: N })
for (let i = 0; i < N; i++) await a.hit(`k${i}`, 60_000)
t = process.cpuUsage()
for (let i = 0; i < 5000; i++) await a.hit(`n${i}`, 60_000)
u = process.cpuUsage(t)
console.log(`attempt store full (${N}): ${((u.user + u.system) / 5000).toFixed(2)} µs per new key`)
const s = memoryTicketStore({ maxEntries: N })
const tk: string[] = []
for (let i = 0; i < N; i++) tk.push(await s.issue({ userId: i } as never, 60_000))
t = process.cpuUsage()
for (let i = 0; i < 20000; i++) {
  await s.consume(tk[(i * 7919) % N]!)
  tk[(i * 7919) % N] = await s.issue({ userId: i } as never, 60_000)
  await s.issue({ userId: i } as never, 60_000)
}
u = process.cpuUsage(t)
console.log(`ticket store full (${N}): ${((u.user + u.system) / 20000).toFixed(2)} µs per consume+2 issues`)

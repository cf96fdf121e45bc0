// Load/save round trips per second through @sessionbridge/memcached against one local memcached,
// next to the limit: raw `mg`/`ms` written by hand over one socket, measured in the same run.
// Run: cd bench && npx tsx src/memcached.ts   (MEMCACHED_SERVER=host:port, default 127.0.0.1:11211)
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { djangoIdFormat } from '@sessionbridge/core'
import { createMemcachedClient, memcachedBackend } from '@sessionbridge/memcached'

const server = process.env.MEMCACHED_SERVER ?? '127.0.0.1:11211'
const [host, port] = [server.split(':')[0]!, Number(server.split(':')[1] ?? 11211)]
const DURATION_MS = Number(process.env.BENCH_MS ?? 1000)
const prefix = `sbbench:${randomBytes(4).toString('hex')}:`

/** The limit: one socket, commands written by hand, replies counted with the least parsing. */
class RawSocket {
  #socket: Socket
  #waiting: Array<() => void> = []
  #buffer: Buffer = Buffer.alloc(0)
  private constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => this.#read(chunk))
  }
  static open(): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true }, () => resolve(new RawSocket(socket)))
      socket.once('error', reject)
    })
  }
  #corked = false
  send(command: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve)
      if (!this.#corked) {
        // One write per tick, like the client: the limit should pipeline at least as well.
        this.#corked = true
        this.#socket.cork()
        process.nextTick(() => {
          this.#corked = false
          this.#socket.uncork()
        })
      }
      this.#socket.write(command)
    })
  }
  close() {
    this.#socket.destroy()
  }
  #read(chunk: Buffer) {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk
    for (;;) {
      const end = this.#buffer.indexOf('\r\n')
      if (end < 0) return
      let next = end + 2
      if (this.#buffer[0] === 0x56 /* V */) {
        next += Number(this.#buffer.subarray(3, end).toString().split(' ')[0]) + 2
        if (this.#buffer.length < next) return
      }
      this.#buffer = this.#buffer.subarray(next)
      this.#waiting.shift()!()
    }
  }
}

async function measure(
  concurrency: number,
  op: (worker: number) => Promise<unknown>,
  ms = DURATION_MS,
): Promise<number> {
  let count = 0
  const until = performance.now() + ms
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < until) {
        await op(worker)
        count++
      }
    }),
  )
  return count / ((performance.now() - started) / 1000)
}

const client = createMemcachedClient({ servers: [server] })
const singleSocket = createMemcachedClient({ servers: [server], maxConnections: 1 })
const backend = memcachedBackend({ client, prefix })
const backend1 = memcachedBackend({ client: singleSocket, prefix })
const raw = await RawSocket.open()

const data = {
  _auth_user_id: '42',
  _auth_user_backend: 'django.contrib.auth.backends.ModelBackend',
  cart: [1, 2, 3],
  theme: 'dark',
}
const ids = (await Promise.all(
  Array.from({ length: 64 }, () =>
    backend.create(djangoIdFormat.generate(), { data, expiresAt: Date.now() + 3_600_000, userId: '42' }),
  ),
)) as string[]
const stored = (await client.get(prefix + ids[0]!))!.value
const rawValue = Buffer.from(stored)
const rawSet = (i: number) =>
  Buffer.concat([
    Buffer.from(`ms ${prefix}raw${i} ${rawValue.length} T3600\r\n`),
    rawValue,
    Buffer.from('\r\n'),
  ])
for (let i = 0; i < 64; i++) await raw.send(rawSet(i))
const save = (b: typeof backend, i: number, n: number) =>
  b.save(
    ids[i]!,
    { set: { theme: `t${n}` }, deleted: [] },
    { data, expiresAt: Date.now() + 3_600_000, userId: '42' },
  )

type Scenario = { name: string; limit: string | null; op: (w: number) => Promise<unknown> }
let n = 0
const scenarios: Scenario[] = [
  { name: 'raw mg', limit: null, op: (w) => raw.send(`mg ${prefix}raw${w} v t\r\n`) },
  { name: 'raw ms', limit: null, op: (w) => raw.send(rawSet(w)) },
  {
    name: 'raw mg+ms',
    limit: null,
    op: async (w) => {
      await raw.send(`mg ${prefix}raw${w} v c t\r\n`)
      await raw.send(rawSet(w))
    },
  },
  { name: 'backend.load (1 socket)', limit: 'raw mg', op: (w) => backend1.load(ids[w]!) },
  { name: 'backend.save = mg + CAS ms (1 socket)', limit: 'raw mg+ms', op: (w) => save(backend1, w, n++) },
  { name: 'backend.load (pool of 4)', limit: 'raw mg', op: (w) => backend.load(ids[w]!) },
  { name: 'backend.save (pool of 4)', limit: 'raw mg+ms', op: (w) => save(backend, w, n++) },
]
const rows: Array<Record<string, string | number>> = []
for (const concurrency of [1, 64]) {
  for (const s of scenarios) await measure(concurrency, s.op, 300) // warm up the JIT and sockets
  // Three interleaved rounds, median kept: the machine is shared, so one slow second should not decide.
  const results = new Map<string, number[]>()
  for (let round = 0; round < 3; round++) {
    for (const s of scenarios)
      results.set(s.name, [...(results.get(s.name) ?? []), await measure(concurrency, s.op)])
  }
  const median = (name: string) => results.get(name)!.sort((a, b) => a - b)[1]!
  for (const s of scenarios) {
    const value = median(s.name)
    rows.push({
      'in flight': concurrency,
      scenario: s.name,
      'ops/s': Math.round(value),
      'vs raw': s.limit ? `${((value / median(s.limit)) * 100).toFixed(0)}% of ${s.limit}` : 'limit',
    })
  }
}
console.table(rows)
console.log(
  `memcached ${server}, ${DURATION_MS} ms per scenario, node ${process.version}, ${new Date().toISOString()}`,
)
await Promise.all(ids.map((id) => backend.destroy(id)))
raw.close()
await client.close()
await singleSocket.close()

// A real three-node Redis Cluster, started by this file from Debian's redis-server on ports of its
// own, proves that every command touches one key (a cross-slot command would fail with CROSSSLOT).
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type SessionBackend, verifyTicket } from '@sessionbridge/core'
import { testBackend } from '@sessionbridge/core/testing'
import { Cluster } from 'ioredis'
import { createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ioredisAdapter,
  nodeRedisClusterAdapter,
  type RedisCommands,
  redisBackend,
  redisTicketStore,
} from '../src/index.ts'
import { sleep } from './helpers.ts'

const SERVER = '/usr/bin/redis-server'
const CLI = '/usr/bin/redis-cli'
const available = existsSync(SERVER) && existsSync(CLI)
if (!available) console.warn(`\n*** SKIPPING redis cluster suite: ${SERVER} or ${CLI} not installed ***\n`)
const run = promisify(execFile)

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })

/** Three ports whose cluster bus ports (+10000) are free too. */
async function clusterPorts(): Promise<number[]> {
  const ports: number[] = []
  while (ports.length < 3) {
    const port = 21_000 + Math.floor(Math.random() * 20_000)
    if (!ports.includes(port) && (await portFree(port)) && (await portFree(port + 10_000))) ports.push(port)
  }
  return ports
}

async function startCluster() {
  const dir = await mkdtemp(join(tmpdir(), 'sb-redis-cluster-'))
  const ports = await clusterPorts()
  const nodes: ChildProcess[] = ports.map((port) =>
    spawn(
      SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    ),
  )
  const stop = async () => {
    for (const node of nodes) node.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports) {
      while (
        (await run(CLI, ['-p', String(port), 'ping']).catch(() => ({ stdout: '' }))).stdout.trim() !== 'PONG'
      ) {
        await sleep(50)
      }
    }
    await run(CLI, [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    for (const port of ports) {
      while (!(await run(CLI, ['-p', String(port), 'cluster', 'info'])).stdout.includes('cluster_state:ok')) {
        await sleep(100)
      }
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { ports, stop }
}

describe.skipIf(!available)('redis backend and tickets on a real Redis Cluster', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>
  const clients: { name: string; commands: RedisCommands; close(): Promise<void> }[] = []
  beforeAll(async () => {
    cluster = await startCluster()
    const node = createCluster({
      rootNodes: [{ url: `redis://127.0.0.1:${cluster.ports[0]}` }],
      defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: false, connectTimeout: 2000 } },
    })
    node.on('error', () => {})
    await node.connect()
    const io = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], {
      enableOfflineQueue: true, // ioredis needs it while it discovers the slots
      redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 2000 },
    })
    io.on('error', () => {})
    await io.call('PING', [])
    clients.push(
      { name: 'node-redis cluster', commands: nodeRedisClusterAdapter(node), close: () => node.close() },
      { name: 'ioredis Cluster', commands: ioredisAdapter(io), close: async () => io.disconnect() },
    )
  }, 60_000)
  afterAll(async () => {
    for (const c of clients) await c.close()
    await cluster?.stop()
  })

  for (const index of [0, 1]) {
    const label = ['node-redis cluster', 'ioredis Cluster'][index]!
    let backend: SessionBackend | undefined
    testBackend({
      name: `redis on a cluster (${label})`,
      backend: () => {
        backend ??= redisBackend({ client: clients[index]!.commands, prefix: 'sbt:cluster:' })
        return backend
      },
      expiryResolutionMs: 200,
    })

    it(`keeps sessions and their user index on different slots (${label})`, async () => {
      const { commands } = clients[index]!
      const slot = (key: string) => commands.send(key, ['CLUSTER', 'KEYSLOT', key])
      const id = 'a'.repeat(32)
      expect(await slot(`sbt:cluster:${id}`)).not.toBe(await slot('sbt:cluster:user:{42}'))
    })

    it(`lets exactly one of 1,000 consumers redeem a ticket (${label})`, async () => {
      const store = redisTicketStore({ client: clients[index]!.commands, prefix: 'sbt:cluster:ticket:' })
      const tickets = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.issue({ userId: String(i), username: `u${i}` }, 10_000)),
      )
      for (const ticket of tickets.slice(0, 2)) {
        const results = await Promise.all(Array.from({ length: 1000 }, () => verifyTicket(store, ticket)))
        expect(results.filter((r) => r !== null)).toHaveLength(1)
      }
      // Tickets land on every node, and each is still redeemed once.
      const redeemed = await Promise.all(tickets.slice(2).map((t) => verifyTicket(store, t)))
      expect(redeemed.every((r) => r !== null)).toBe(true)
    })
  }
})

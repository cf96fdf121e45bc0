// The rest-sessions row of the increment race (src/same-key.ts): our server in a process of its
// own (as in src/rest-sessions.ts), under a namespace of this run, removed at the end. Round trips
// are HTTP requests to the server (each one a Redis script or two inside it).
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer as createTcpServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { SessionBackend } from '@sessionbridge/core'
import { fetchTransport, restSessionsBackend, type Transport } from '@sessionbridge/rest-sessions'
import { createClient } from 'redis'

/** What the race needs of a store: a backend object per simulated app, and a round-trip count. */
export interface CountedStore {
  backend: () => SessionBackend
  calls: () => number
  close(): Promise<void>
}

async function freePort(): Promise<number> {
  const probe = createTcpServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

async function waitForPing(url: string, server: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`)
    const ok = await fetch(`${url}/ping`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the server did not answer /ping within 10 s')
}

/** Starts `@sessionbridge/rest-sessions-server` on a free port; its sessions live under `<tag>-rs`. */
export async function openRestSessions(tag: string): Promise<CountedStore> {
  const namespace = `${tag}-rs`
  const port = await freePort()
  const bin = fileURLToPath(
    new URL('../../packages/rest-sessions-server/bin/rest-sessions-server.mjs', import.meta.url),
  )
  const server = spawn(process.execPath, [bin], {
    env: { ...process.env, RS_PORT: String(port), RS_NAMESPACE: namespace, RS_LOGLEVEL: 'none' },
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForPing(url, server)
  } catch (error) {
    server.kill()
    throw error
  }
  const counter = { n: 0 }
  const inner = fetchTransport()
  const counting: Transport = {
    name: 'counting',
    request(request) {
      counter.n++
      return inner.request(request)
    },
  }
  return {
    backend: () =>
      restSessionsBackend({
        url,
        app: 'samekey',
        transport: counting,
        anonymousId: 'bench',
        timeout: 30_000,
      }),
    calls: () => counter.n,
    async close() {
      server.kill()
      const redis = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
      redis.on('error', () => {})
      await redis.connect()
      for await (const keys of redis.scanIterator({ MATCH: `${namespace}:*`, COUNT: 500 })) {
        if (keys.length > 0) await redis.del(keys)
      }
      await redis.close()
    },
  }
}

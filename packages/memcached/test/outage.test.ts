import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { SessionBackendError, type SessionRecord } from '@sessionbridge/core'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMemcachedClient, memcachedBackend } from '../src/index.ts'
import { memcachedProcess, testPrefix } from './servers.ts'

const up = await serviceAvailable('memcached')
const quiet = { warn() {} }
const HOUR = 3_600_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A TCP proxy in front of the shared memcached that can be cut and restored on the same port: a
 * server that goes away without losing its items (a partition, a paused VM), then returns.
 */
async function partitionable(target: string) {
  const [host, port] = target.split(':')
  const sockets = new Set<Socket>()
  const handle = (inbound: Socket) => {
    const outbound = connect({ host: host!, port: Number(port) })
    for (const s of [inbound, outbound]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => sockets.delete(s))
    }
    inbound.pipe(outbound)
    outbound.pipe(inbound)
  }
  let server: Server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const listenPort = (server.address() as AddressInfo).port
  return {
    address: `127.0.0.1:${listenPort}`,
    async cut() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    async restore() {
      server = createServer(handle)
      await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve))
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const freePort = async () => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe.skipIf(!up)('a memcached node that goes away and returns still holding its data', () => {
  const prefix = testPrefix('outage')
  let proxy: Awaited<ReturnType<typeof partitionable>>
  let standIn: ReturnType<typeof memcachedProcess>
  beforeAll(async () => {
    proxy = await partitionable(SERVICE_URLS.memcached.split(',')[0]!)
    standIn = memcachedProcess(await freePort())
    await standIn.start()
  })
  afterAll(async () => {
    await proxy.close().catch(() => {})
    await standIn.stop()
  })

  const record = (): SessionRecord => ({
    data: { _auth_user_id: '7', n: 1 },
    expiresAt: Date.now() + HOUR,
    userId: '7',
  })
  const setup = (failover: boolean | undefined) => {
    const settings = { servers: [proxy.address, standIn.address], timeout: 2000, connectTimeout: 2000 }
    const client = createMemcachedClient(failover === undefined ? settings : { ...settings, failover })
    const backend = memcachedBackend({ client, prefix, logger: quiet })
    return { client, backend }
  }
  /** A fresh session whose key lives on the node behind the proxy. */
  const sessionOnProxy = async (setupResult: ReturnType<typeof setup>) => {
    const { client, backend } = setupResult
    for (;;) {
      const id = backend.idFormat.generate()
      if (client.serverFor(prefix + id) !== proxy.address) continue
      expect(await backend.create(id, record())).toBe(id)
      return id
    }
  }
  /** Requests until the client has marked the cut node dead. */
  const untilMarkedDead = async (load: () => Promise<unknown>) => {
    for (let i = 0; i < 5; i++) await load().catch(() => null)
  }

  it('with failover on, a logout made on the stand-in is undone when the node returns (why it is off by default)', async () => {
    const on = setup(true)
    const id = await sessionOnProxy(on)
    await proxy.cut()
    await untilMarkedDead(() => on.backend.load(id))
    await on.backend.destroy(id) // lands on the stand-in: "logged out"
    expect(await on.backend.load(id)).toBeNull()
    await proxy.restore()
    let back: unknown = null
    for (let i = 0; i < 40 && back === null; i++) {
      await sleep(100)
      back = await on.backend.load(id).catch(() => null)
    }
    expect(back, 'the logged-out session came back with the node').not.toBeNull()
    await on.client.close()
  })

  it('by default (failover off), a logout during the outage fails visibly, and the node serves again within about a second of its return', async () => {
    const off = setup(undefined)
    const id = await sessionOnProxy(off)
    await proxy.cut()
    await untilMarkedDead(() => off.backend.load(id))
    // A long outage: many failed probes, which must not push the next probe far out.
    for (let i = 0; i < 30; i++) {
      await sleep(100)
      await off.backend.load(id).catch(() => null)
    }
    const logout = await off.backend.destroy(id).catch((e: unknown) => e)
    expect(logout).toBeInstanceOf(SessionBackendError) // a 503, never a silent "logged out"
    await proxy.restore()
    const returned = Date.now()
    let loaded: unknown = null
    while (loaded === null && Date.now() - returned < 10_000) {
      loaded = await off.backend.load(id).catch(() => null)
      if (loaded === null) await sleep(50)
    }
    const recoveryMs = Date.now() - returned
    console.log(`memcached: served again ${recoveryMs} ms after the node returned`)
    expect(loaded).not.toBeNull() // the session is intact: the failed logout changed nothing
    expect(recoveryMs).toBeLessThan(2500) // ~1 s probe interval, with slack for a loaded machine
    await off.client.close()
  })
})

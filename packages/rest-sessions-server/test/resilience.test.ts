import { spawn } from 'node:child_process'
import { createServer as createTcpServer, type Server, type Socket } from 'node:net'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, describe, expect, it } from 'vitest'
import { optionsFromEnv } from '../src/index.ts'
import { dropNamespace, freshNamespace, redisClient, redisUrl, startServer } from './helpers.ts'

/** A TCP proxy to Redis that the test can cut and restore, to play "Redis went away". */
async function redisProxy() {
  const sockets = new Set<Socket>()
  let server: Server | null = null
  let port = 0
  const open = () =>
    new Promise<void>((resolve) => {
      server = createTcpServer((client) => {
        const upstream = new (client.constructor as typeof Socket)()
        upstream.connect(Number(redisUrl.port || 6379), redisUrl.hostname)
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('error', () => undefined)
          s.on('close', () => sockets.delete(s))
        }
        client.pipe(upstream).pipe(client)
      })
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port
        resolve()
      })
    })
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server!.close(() => resolve())
    })
  await open()
  return { port: () => port, cut, restore: open }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(!(await serviceAvailable('redis')))('resilience and startup', () => {
  const namespace = freshNamespace()
  afterAll(async () => {
    const redis = await redisClient()
    await dropNamespace(redis, namespace)
    await redis.close()
  })

  it('answers 503 while Redis is gone and recovers when it is back, without crashing', async () => {
    const proxy = await redisProxy()
    const { server, call } = await startServer({ namespace, redisPort: proxy.port(), redisTimeout: 1000 })
    try {
      const created = await call('PUT', '/resil/create/u?ip=x', { json: { a: 1 } })
      const { token } = created.json as { token: string }
      await proxy.cut()
      for (const answer of [await call('GET', `/resil/get/${token}`), await call('GET', '/ping')]) {
        expect(answer.status).toBe(503)
        expect(answer.json).toMatchObject({ name: 'redisUnavailable' })
      }
      // validation still answers without Redis
      expect((await call('GET', '/resil/get/bad')).status).toBe(400)
      await proxy.restore()
      let status = 0
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        await wait(100)
        status = (await call('GET', '/ping')).status
      }
      expect(status).toBe(200)
      expect((await call('GET', `/resil/get/${token}`)).json).toMatchObject({ d: { a: 1 } })
    } finally {
      await server.close()
      await proxy.cut().catch(() => undefined)
    }
  })

  it('starts without Redis and answers 503', async () => {
    const proxy = await redisProxy()
    const port = proxy.port()
    await proxy.cut()
    const { server, call } = await startServer({ namespace, redisPort: port })
    try {
      expect((await call('GET', '/ping')).status).toBe(503)
    } finally {
      await server.close()
    }
  })

  it('reads the original environment variables', () => {
    expect(optionsFromEnv({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      server: { redisHost: '127.0.0.1', redisPort: 6379, namespace: 'rs', logLevel: 'dev', strict: false },
    })
    expect(
      optionsFromEnv({
        RS_PORT: '8080',
        RS_HOST: '0.0.0.0',
        RS_REDISHOST: 'r',
        RS_REDISPORT: '6380',
        RS_NAMESPACE: 'x',
        RS_LOGLEVEL: 'none',
        RS_STRICT: '1',
      }),
    ).toEqual({
      port: 8080,
      host: '0.0.0.0',
      server: { redisHost: 'r', redisPort: 6380, namespace: 'x', logLevel: 'none', strict: true },
    })
    expect(() => optionsFromEnv({ RS_PORT: 'abc' })).toThrow(/RS_PORT/)
  })

  it('bin/rest-sessions-server.mjs serves and exits cleanly on SIGTERM', async () => {
    const probe = createTcpServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const child = spawn(
      process.execPath,
      [new URL('../bin/rest-sessions-server.mjs', import.meta.url).pathname],
      {
        env: { ...process.env, RS_PORT: String(port), RS_NAMESPACE: namespace, RS_LOGLEVEL: 'none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      let text = ''
      for (let attempt = 0; attempt < 100 && text !== 'PONG'; attempt++) {
        await wait(100)
        text = await fetch(`http://127.0.0.1:${port}/ping`).then(
          (r) => r.text(),
          () => '',
        )
      }
      expect(text).toBe('PONG')
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})

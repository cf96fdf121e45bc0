import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { memoryBackend, type SessionBackend } from '@sessionbridge/core'
import express, { type ErrorRequestHandler, type Request } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionErrorHandler, sessionMiddleware } from '../src/index.ts'

// A request without a session cookie keeps its slot entry on the root app's request prototype (no
// property on the request). These are the cases where that could go wrong: a mounted sub-app
// (Express swaps its prototype back on the way out, so its requests keep entries and members of
// their own),
// two session middlewares in one app, and a commit failure of such a request (no `next` kept:
// Express's `req.next`).
describe('express: where a request without cookie finds its session', () => {
  const first = memoryBackend()
  const second = memoryBackend()
  const failing: SessionBackend = {
    ...memoryBackend(),
    name: 'failing',
    create: async () => {
      throw new Error('store down')
    },
  }
  const write = (req: Request, value: string) => req.session.set('from', value)
  const sub = express()
    .use(sessionMiddleware({ backend: first }))
    .get('/sub/write', (req, res) => {
      write(req, 'sub-app')
      res.send('ok')
    })
    .get('/sub/read', async (req, res) => void res.send(String(await req.session.get('from'))))
  const errors: string[] = []
  const recordError: ErrorRequestHandler = (error: Error, _req, _res, next) => {
    errors.push(error.message)
    next(error)
  }
  const app = express()
    .use(sub)
    .get('/after-sub', async (req, res) => void res.send(String(await req.session.get('from'))))
    .use('/one', sessionMiddleware({ backend: first }))
    .use('/two', sessionMiddleware({ backend: second }))
    .get(['/one/write', '/two/write'], (req, res) => {
      write(req, req.path)
      res.send('ok')
    })
  // Its only session middleware: the home's entry names its driver.
  const broken = express()
    .use(sessionMiddleware({ backend: failing }))
    .get('/write', (req, res) => {
      write(req, 'never stored')
      res.send('ok')
    })
    .use(recordError, sessionErrorHandler())
  const servers = [createServer(app), createServer(broken)]
  let base = ''
  let brokenBase = ''
  beforeAll(async () => {
    const ports = []
    for (const server of servers) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      ports.push((server.address() as AddressInfo).port)
    }
    base = `http://127.0.0.1:${ports[0]}`
    brokenBase = `http://127.0.0.1:${ports[1]}`
  })
  afterAll(() =>
    Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))),
  )

  const stored = async (backend: SessionBackend, reply: Response) => {
    const id = reply.headers.get('set-cookie')?.split(';')[0]?.split('=')[1]
    return id ? ((await backend.load(id))?.data.from ?? null) : null
  }

  it("keeps an entry on each request of a mounted sub-app (its prototype is not the root app's)", async () => {
    const reply = await fetch(`${base}/sub/write`)
    expect(await reply.text()).toBe('ok')
    expect(await stored(first, reply)).toBe('sub-app')
    const cookie = reply.headers.get('set-cookie')!.split(';')[0]!
    expect(await (await fetch(`${base}/sub/read`, { headers: { cookie } })).text()).toBe('sub-app')
  })

  it("keeps the session of a sub-app's middleware for the parent's routes after it", async () => {
    const reply = await fetch(`${base}/sub/write`)
    const cookie = reply.headers.get('set-cookie')!.split(';')[0]!
    const after = await fetch(`${base}/after-sub`, { headers: { cookie } })
    expect(after.status).toBe(200)
    expect(await after.text()).toBe('sub-app')
  })

  it('gives each of two middlewares of one app its own requests', async () => {
    for (let round = 0; round < 2; round++) {
      const one = await fetch(`${base}/one/write`)
      expect(await stored(first, one)).toBe('/one/write')
      const two = await fetch(`${base}/two/write`)
      expect(await stored(second, two)).toBe('/two/write')
      expect(await stored(first, two)).toBeNull()
    }
  })

  it("hands a failed commit to Express's error handling", async () => {
    errors.length = 0
    const reply = await fetch(`${brokenBase}/write`)
    expect(reply.status).toBe(503)
    expect(reply.headers.get('set-cookie')).toBeNull()
    expect(errors).toHaveLength(1)
  })
})

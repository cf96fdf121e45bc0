import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { memoryBackend } from '@sessionbridge/core'
import express, { type RequestHandler, type Response } from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessionMiddleware } from '../src/index.ts'

/**
 * A middleware that wraps `res.end` as compression does: it writes the headers before it calls
 * the `end` it found. The session's hold must sit outside it whenever it was there first, or the
 * cookie comes too late.
 */
const headersFirst: RequestHandler = (_req, res, next) => {
  const inner = res.end
  res.end = function (this: Response, ...args: unknown[]) {
    if (!this.headersSent) this.writeHead(this.statusCode)
    return (inner as (...a: unknown[]) => Response).apply(this, args)
  } as Response['end']
  next()
}

// The root app's response prototype holds a response that has no `end` or `write` of its own
// (ResponseGate's home); one that has them (a wrapper installed before the hold) is held by its
// own, outside the wrapper, as before.
describe('express: the hold and the wrappers other middleware put on the response', () => {
  const backend = memoryBackend()
  const write =
    (value: string): RequestHandler =>
    (req, res) => {
      req.session.set('v', value)
      res.send('ok')
    }
  const before = express().use(headersFirst).use(sessionMiddleware({ backend })).get('/', write('before'))
  const after = express().use(sessionMiddleware({ backend })).use(headersFirst).get('/', write('after'))
  const servers = [createServer(before), createServer(after)]
  const bases: string[] = []
  beforeAll(async () => {
    for (const server of servers) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    }
  })
  afterAll(() =>
    Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))),
  )

  const cookieOf = (reply: Response | globalThis.Response) =>
    (reply as globalThis.Response).headers.get('set-cookie')?.split(';')[0]

  it('commits before a wrapper mounted before the middleware writes the headers', async () => {
    const reply = await fetch(bases[0]!)
    expect(await reply.text()).toBe('ok')
    expect(cookieOf(reply)).toMatch(/^sessionid=/)
  })

  it('commits before a wrapper mounted after it, for a session first used in the handler', async () => {
    const reply = await fetch(bases[1]!)
    expect(await reply.text()).toBe('ok')
    const cookie = cookieOf(reply)
    expect(cookie).toMatch(/^sessionid=/)
    const id = cookie!.split('=')[1]!
    expect((await backend.load(id))?.data.v).toBe('after')
  })
})

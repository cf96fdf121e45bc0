import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { alnum64IdFormat, SessionBackendError, SessionError } from '@sessionbridge/core'
import { isPlainObject } from '@sessionbridge/core/adapter'
import { restSessionsBackend } from '@sessionbridge/rest-sessions'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { BATCH, batch, batchedParams, byteString, FUZZ_TIMEOUT } from '../src/fuzz.ts'

vi.setConfig({ testTimeout: FUZZ_TIMEOUT })

/** What the hand-written broken server answers. */
interface Reply {
  status: number
  type: string
  body: string
}

// A real peer cannot be made to answer garbage on demand, so this local server does. Backend `i`
// of a batch talks to `/<i>/...`, and gets `next[i]`.
const next: Reply[] = Array.from({ length: BATCH }, () => ({
  status: 200,
  type: 'application/json',
  body: '{}',
}))
let server: Server
let url: string

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      const answer = next[Number(request.url?.split('/')[1])] ?? next[0]!
      response.writeHead(answer.status, { 'content-type': answer.type })
      response.end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** Replies shaped like the protocol's, and not: wrong types, wrong statuses, truncated JSON, bytes. */
const sessionLike = fc.record(
  {
    id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    r: fc.oneof(fc.integer(), fc.string()),
    w: fc.integer(),
    ttl: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
    idle: fc.oneof(fc.integer(), fc.double(), fc.string()),
    ip: fc.string(),
    d: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
    token: fc.oneof(fc.string(), fc.constant('A'.repeat(64))),
    kill: fc.oneof(fc.integer(), fc.string()),
    sessions: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 3 }), fc.jsonValue()),
  },
  { requiredKeys: [] },
)
const body = fc.oneof(
  sessionLike.map((v) => JSON.stringify(v)),
  sessionLike.chain((v) => {
    const text = JSON.stringify(v)
    return fc.nat({ max: text.length }).map((n) => text.slice(0, n))
  }),
  fc.json(),
  byteString(100),
  fc.constantFrom('', 'PONG', '{"name":"invalidFormat","message":"Invalid token format"}', 'null', '[]'),
)
const reply: fc.Arbitrary<Reply> = fc.record({
  status: fc.oneof(
    fc.constantFrom(200, 200, 200, 304, 400, 404, 413, 500, 502, 503),
    fc.integer({ min: 200, max: 599 }),
  ),
  type: fc.constantFrom('application/json; charset=utf-8', 'text/html', 'application/octet-stream'),
  body,
})

describe('rest-sessions replies from a broken server', () => {
  it('every operation answers a value or a SessionBackendError, never another exception', async () => {
    const backends = next.map((_, i) =>
      restSessionsBackend({
        url: `${url}/${i}`,
        app: 'sbrel',
        anonymousId: 'anonymous',
        timeout: 5000,
        logger: { warn() {} },
      }),
    )
    const token = alnum64IdFormat.generate()
    const record = { data: { a: 1, _auth_user_id: '7' }, expiresAt: Date.now() + 60_000, userId: '7' }
    const operations = (backend: (typeof backends)[number]) => [
      async () => {
        const loaded = await backend.load(token)
        if (loaded !== null) expect(isPlainObject(loaded.data)).toBe(true)
      },
      async () => {
        const id = await backend.create(alnum64IdFormat.generate(), record)
        if (id !== null) expect(typeof id).toBe('string')
      },
      async () =>
        expect(typeof (await backend.save(token, { set: { b: 2 }, deleted: ['a'] }, record))).toBe('boolean'),
      async () => expect(typeof (await backend.touch(token, Date.now() + 60_000))).toBe('boolean'),
      async () => backend.destroy(token),
    ]
    const check = async (i: number, [answer, which]: [Reply, number]) => {
      next[i] = answer
      try {
        await operations(backends[i]!)[which]!()
      } catch (error) {
        // Typed: a backend error (503 for frameworks), or a named data error; never a TypeError.
        if (!(error instanceof SessionBackendError)) expect(error).toBeInstanceOf(SessionError)
      }
    }
    await fc.assert(
      fc.asyncProperty(batch(fc.tuple(reply, fc.nat({ max: 4 }))), (values) =>
        Promise.all(values.map((value, i) => check(i, value))).then(() => undefined),
      ),
      batchedParams(),
    )
  })
})

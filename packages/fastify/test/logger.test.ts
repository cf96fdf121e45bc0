import { memoryBackend, type SessionBackend, SessionBackendError } from '@sessionbridge/core'
import Fastify from 'fastify'
import { describe, expect, it, vi } from 'vitest'
import { sessionPlugin } from '../src/index.ts'

/** A memory store whose loads fail while `down` is true (writes still work, to seed a session). */
function flakyBackend() {
  const inner = memoryBackend()
  const state = { down: false }
  const backend: SessionBackend = {
    ...inner,
    load: (id) =>
      state.down
        ? Promise.reject(new SessionBackendError('flaky', 'load', 'connection refused'))
        : inner.load(id),
  }
  return { backend, state }
}

interface LogLine {
  level: number
  msg: string
  reqId?: string
}

/** An app whose pino logger writes JSON lines into `lines`. */
async function app(extra: { logger?: { warn(message: string): void } } = {}) {
  const lines: LogLine[] = []
  const stream = { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }
  const { backend, state } = flakyBackend()
  const fastify = Fastify({
    logger: { level: 'info', stream },
    genReqId: () => `req-${lines.length}-${Math.random()}`,
  })
  await fastify.register(sessionPlugin, { backend, onBackendError: 'continue', ...extra })
  fastify.post('/write', async (request) => {
    request.session.set('n', Number((await request.session.get('n')) ?? 0) + 1)
    return { ok: true }
  })
  fastify.get('/read', async (request) => ({ n: (await request.session.get('n')) ?? null }))
  const first = await fastify.inject({ method: 'POST', url: '/write' })
  const cookie = String(first.headers['set-cookie']).split(';')[0]!
  state.down = true
  return { fastify, lines, cookie }
}

describe("Fastify plugin: warnings go to Fastify's request.log", () => {
  it('logs a failed load (onBackendError: continue) at warn level with the request id', async () => {
    const { fastify, lines, cookie } = await app()
    const response = await fastify.inject({ method: 'GET', url: '/read', headers: { cookie } })
    expect(response.statusCode).toBe(200)
    const warnings = lines.filter((l) => l.level === 40)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.msg).toMatch(/connection refused; continuing with an empty read-only session/)
    // The request id of this request, as Fastify's own "incoming request" line carries it.
    const incoming = lines.filter((l) => l.msg === 'incoming request').at(-1)!
    expect(warnings[0]!.reqId).toBe(incoming.reqId)
    expect(typeof incoming.reqId).toBe('string')
    await fastify.close()
  })

  it('logs the dropped write of a degraded request too, each under its own request id', async () => {
    const { fastify, lines, cookie } = await app()
    await fastify.inject({ method: 'POST', url: '/write', headers: { cookie } })
    await fastify.inject({ method: 'POST', url: '/write', headers: { cookie } })
    const warnings = lines.filter((l) => l.level === 40)
    const dropped = warnings.filter((l) => /changes were not saved \(\d+ dropped since start\)/.test(l.msg))
    expect(dropped).toHaveLength(2)
    expect(new Set(dropped.map((l) => l.reqId)).size).toBe(2)
    await fastify.close()
  })

  it("falls back to console when Fastify's logger is off, never dropping the warning", async () => {
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const { backend, state } = flakyBackend()
      const fastify = Fastify() // no logger: Fastify's no-op stand-in
      await fastify.register(sessionPlugin, { backend, onBackendError: 'continue' })
      fastify.post('/write', async (request) => {
        request.session.set('n', 1)
        return { ok: true }
      })
      fastify.get('/read', async (request) => ({ n: (await request.session.get('n')) ?? null }))
      const first = await fastify.inject({ method: 'POST', url: '/write' })
      const cookie = String(first.headers['set-cookie']).split(';')[0]!
      state.down = true
      await fastify.inject({ method: 'GET', url: '/read', headers: { cookie } })
      expect(spy.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringMatching(/continuing with an empty read-only session/),
      ])
      await fastify.close()
    } finally {
      spy.mockRestore()
    }
  })

  it('sends warnings to the logger option instead, when one is given', async () => {
    const mine: string[] = []
    const { fastify, lines, cookie } = await app({ logger: { warn: (m) => void mine.push(m) } })
    await fastify.inject({ method: 'GET', url: '/read', headers: { cookie } })
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatch(/continuing with an empty read-only session/)
    expect(lines.filter((l) => l.level === 40)).toEqual([])
    await fastify.close()
  })
})

import { memoryBackend, SessionConfigError } from '@sessionbridge/core'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import type { FastifySessionOptions } from '../src/index.ts'
import { loggedInOrBasicAuth, sessionPlugin, ticketRoute } from '../src/index.ts'

describe('fastify plugin configuration', () => {
  it('rejects ready() with a message naming the option', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /\[sessionbridge\/fastify\] missing option "backend"/],
      [{ backend: memoryBackend(), maxAge: -1 }, /\[sessionbridge\/fastify\] option "maxAge" must be/],
      [{ backend: memoryBackend(), secrets: ['short'] }, /option "secrets"/],
      [{ backend: memoryBackend(), users: { getById() {} } }, /option "users" has no findByLogin\(\) method/],
    ]
    for (const [options, message] of cases) {
      const app = Fastify()
      app.register(sessionPlugin, options as FastifySessionOptions)
      const failure = await app.ready().then(
        () => null,
        (error: unknown) => error,
      )
      expect(failure).toBeInstanceOf(SessionConfigError)
      expect((failure as Error).message).toMatch(message)
    }
  })

  it('declares its name, so dependent plugins can check for it', async () => {
    const app = Fastify()
    await app.register(sessionPlugin, { backend: memoryBackend() })
    expect(app.hasPlugin('@sessionbridge/fastify')).toBe(true)
    await app.close()
  })

  it('refuses bad guard and ticket options when the route is declared', () => {
    expect(() => loggedInOrBasicAuth({ realm: 'a\nb' })).toThrow(/\[sessionbridge\/fastify\] option "realm"/)
    expect(() => ticketRoute(null, { ttlMs: -5 })).toThrow(/option "ttlMs"/)
  })

  it('answers 500 naming the option when a guard runs without users', async () => {
    const app = Fastify()
    await app.register(sessionPlugin, { backend: memoryBackend() })
    app.get('/private', { preHandler: loggedInOrBasicAuth() }, async () => 'secret')
    const response = await app.inject('/private')
    expect(response.statusCode).toBe(500)
    expect(response.json().message).toMatch(/missing option "users"/)
    await app.close()
  })
})

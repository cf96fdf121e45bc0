import { testFrameworkSecurity } from '@sessionbridge/core/testing'
import Fastify, { type FastifyRequest } from 'fastify'
import { loggedInOrBasicAuth, sessionPlugin } from '../src/index.ts'

/** The security suite's routes on Fastify; urlencoded bodies are kept as strings (no formbody plugin). */
testFrameworkSecurity({
  name: 'fastify',
  async makeApp({ session, users, csrf, throttle }) {
    const app = Fastify()
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
      done(null, body),
    )
    await app.register(sessionPlugin, { ...session, users, csrf: { ...csrf, exempt: undefined }, throttle })
    const fields = (request: FastifyRequest) => {
      const body = request.body
      if (typeof body === 'string') return Object.fromEntries(new URLSearchParams(body))
      return (body ?? {}) as Record<string, string>
    }
    app.get('/token', async (request) => ({ token: await request.csrfToken() }))
    app.post('/login', async (request, reply) => {
      const { username = '', password = '' } = fields(request)
      const result = await request.authenticate(username, password)
      if (result.status === 'throttled')
        return reply.code(429).header('retry-after', String(result.retryAfterSeconds)).send({})
      if (result.status !== 'ok') return reply.code(401).send({})
      await request.login(result.user)
      return { user: result.user.username }
    })
    app.post('/logout', async (request) => {
      request.logout()
      return { ok: true }
    })
    app.post('/write', async (request) => {
      request.session.set('x', 1)
      return { ok: true }
    })
    app.post('/exempt', { config: { csrf: false } }, async (request) => {
      request.session.set('x', 1)
      return { ok: true }
    })
    app.get('/private', { preHandler: loggedInOrBasicAuth() }, async (request) => ({
      user: (await request.user)?.username,
    }))
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    return { url, close: () => app.close() }
  },
})

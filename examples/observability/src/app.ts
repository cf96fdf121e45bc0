import { memoryBackend, type SessionBackend } from '@sessionbridge/core'
import { sessionPlugin } from '@sessionbridge/fastify'
import Fastify, { type FastifyInstance } from 'fastify'

declare module '@sessionbridge/fastify' {
  interface SessionDataMap {
    visits: number
  }
}

/** A one-route app: each visit reads and writes the session (a load, then a save). */
export async function buildApp(backend: SessionBackend = memoryBackend()): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(sessionPlugin, { backend, onBackendError: 'continue' })
  app.get('/', async (request) => {
    const visits = ((await request.session.get('visits')) ?? 0) + 1
    request.session.set('visits', visits)
    return { visits }
  })
  return app
}

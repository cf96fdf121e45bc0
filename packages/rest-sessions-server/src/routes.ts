import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { newTtl as readNewTtl, registerExtensions } from './extensions.ts'
import type { SessionStore } from './store.ts'
import {
  queryValue,
  validateApp,
  validateData,
  validateDt,
  validateId,
  validateIp,
  validateToken,
  validateTtl,
} from './validate.ts'

type Params = Record<string, string | undefined>
type Query = Record<string, unknown>
type Req = FastifyRequest<{ Params: Params; Querystring: Query }>

/**
 * The routes of the rest-sessions protocol, in the original's shapes and validation order. In
 * strict mode `newttl` is ignored and the extension routes do not exist, as on the original.
 */
export function registerRoutes(app: FastifyInstance, store: SessionStore, strict: boolean): void {
  const newTtl = (query: Query) => (strict ? undefined : readNewTtl(query))
  if (!strict) registerExtensions(app, store)
  app.get('/ping', { logLevel: 'silent' }, async (_request, reply) => {
    // The original sent Redis' reply string raw under a JSON content type (not valid JSON).
    const pong = await store.ping()
    return reply.type('application/json').send(pong)
  })

  app.put('/:app/create/:id', async (request: Req) => {
    const name = validateApp(request.params.app)
    const id = validateId(request.params.id)
    const ip = validateIp(queryValue(request.query.ip))
    const ttl = validateTtl(queryValue(request.query.ttl))
    const d = validateData(request.body, false)
    return { token: await store.create(name, id, ip, ttl, d) }
  })

  app.get('/:app/get/:token', async (request: Req) => {
    const name = validateApp(request.params.app)
    const token = validateToken(request.params.token)
    return (await store.get(name, token, newTtl(request.query))) ?? {}
  })

  app.post('/:app/set/:token', async (request: Req) => {
    const name = validateApp(request.params.app)
    const token = validateToken(request.params.token)
    const d = validateData(request.body, true)
    // The guard extension: never overwrite data the sessionbridge client cannot decode.
    const guard = !strict && queryValue(request.query.guard) === '1'
    const result = await store.set(name, token, d, newTtl(request.query), guard)
    return result === 'undecodable' ? { undecodable: true } : (result ?? {})
  })

  app.get('/:app/soid/:id', async (request: Req) => {
    const name = validateApp(request.params.app)
    const id = validateId(request.params.id)
    return { sessions: await store.soid(name, id) }
  })

  app.get('/:app/soapp', async (request: Req) => {
    const name = validateApp(request.params.app)
    const dt = validateDt(queryValue(request.query.dt))
    return { sessions: await store.soapp(name, dt) }
  })

  app.get('/:app/activity', async (request: Req) => {
    const name = validateApp(request.params.app)
    const dt = validateDt(queryValue(request.query.dt))
    return { activity: await store.activity(name, dt) }
  })

  app.delete('/:app/kill/:token', async (request: Req) => {
    const name = validateApp(request.params.app)
    const token = validateToken(request.params.token)
    return { kill: await store.kill(name, token) }
  })

  app.delete('/:app/killsoid/:id', async (request: Req) => {
    const name = validateApp(request.params.app)
    const id = validateId(request.params.id)
    return { kill: await store.killsoid(name, id) }
  })

  app.delete('/:app/killall', async (request: Req) => {
    return { kill: await store.killall(validateApp(request.params.app)) }
  })

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    // The original's (Express) answer for an unknown route or method.
    const path = escapeHtml(request.url.split('?')[0] ?? '')
    return reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send(
        `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot ${request.method} ${path}</pre>\n</body>\n</html>\n`,
      )
  })
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

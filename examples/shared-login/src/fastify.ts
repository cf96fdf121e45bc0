import {
  type FastifySessionOptions,
  loggedInOrBasicAuth,
  permissionOrBasicAuth,
  sessionPlugin,
  ticketRoute,
} from '@sessionbridge/fastify'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { type ExampleApp, type ExampleAppOptions, sessionOptions, urlOf } from './app.ts'
import {
  ADMIN_PERMISSION,
  type ContractContext,
  type ContractReply,
  createContract,
  MAX_BODY_BYTES,
  parseFields,
  REALM,
} from './contract.ts'
import { SECURITY_HEADERS } from './security.ts'

const context = (request: FastifyRequest): ContractContext => ({
  // The session's data type may be narrowed by augmentation elsewhere; the contract reads plain keys.
  session: request.session as unknown as ContractContext['session'],
  user: () => request.user.get(),
  // The user type may be narrowed by augmentation elsewhere; our users are the stack's own.
  login: (user) => request.login(user as Parameters<FastifyRequest['login']>[0]),
  logout: () => request.logout(),
  authenticate: (username, password) => request.authenticate(username, password),
  csrfToken: () => request.csrfToken(),
})

const send = (reply: FastifyReply, answer: ContractReply) => {
  reply.code(answer.status)
  if (answer.type) reply.type(answer.type)
  if (answer.location) reply.header('location', answer.location)
  if (answer.headers) reply.headers(answer.headers)
  return reply.send(answer.body ?? '')
}

/** The contract on Fastify 5, with `@sessionbridge/fastify`. */
export function createFastifyApp(options: ExampleAppOptions): ExampleApp {
  const { stack } = options
  const contract = createContract({
    users: stack.users,
    app: 'Fastify',
    backend: stack.label,
    links: options.links ?? (() => []),
  })
  const app = Fastify({ bodyLimit: MAX_BODY_BYTES, trustProxy: stack.trustProxy })
  // The contract parses bodies itself (JSON or form), the same way in every framework.
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser(
    ['application/json', 'application/x-www-form-urlencoded'],
    { parseAs: 'string' },
    (_req, body, done) => done(null, body),
  )
  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(SECURITY_HEADERS)
  })
  app.register(sessionPlugin, {
    ...sessionOptions(options),
    users: stack.users as FastifySessionOptions['users'],
    csrf: stack.csrf,
    throttle: stack.throttle,
  })
  const fields = (request: FastifyRequest) =>
    parseFields(request.headers['content-type'], typeof request.body === 'string' ? request.body : '')

  app.register(async (routes) => {
    routes.get('/', (req, reply) =>
      contract
        .page(context(req), new URL(req.url, 'http://app.invalid').searchParams)
        .then((a) => send(reply, a)),
    )
    routes.post('/login', (req, reply) =>
      contract.login(context(req), fields(req)).then((a) => send(reply, a)),
    )
    routes.post('/logout', (req, reply) =>
      contract.logout(context(req), fields(req)).then((a) => send(reply, a)),
    )
    routes.get('/whoami', (req, reply) => contract.whoami(context(req)).then((a) => send(reply, a)))
    routes.post('/counter', (req, reply) =>
      contract.counter(context(req), fields(req)).then((a) => send(reply, a)),
    )
    routes.post('/ticket', ticketRoute(stack.tickets))
    routes.get('/feed', { preHandler: loggedInOrBasicAuth({ realm: REALM }) }, async (req, reply) =>
      send(reply, contract.feed(await req.user.get())),
    )
    routes.get(
      '/admin-feed',
      { preHandler: permissionOrBasicAuth(ADMIN_PERMISSION, { realm: REALM }) },
      async (req, reply) => send(reply, contract.adminFeed(await req.user.get())),
    )
  })

  return {
    name: 'Fastify',
    async listen(port, host = '127.0.0.1') {
      await app.listen({ port, host })
      return urlOf(app.server.address(), host)
    },
    close: () => app.close(),
  }
}

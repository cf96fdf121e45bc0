// A Worker for test/django-d1.test.ts: Hono with Django's sessions and users kept in Cloudflare D1.
// The Django codec and signer run on workerd's Web Crypto and CompressionStream (no nodejs_compat,
// so no Node crypto or zlib: core's nativeModules is null).

import type { AuthUser, SessionData } from '@sessionbridge/core'
import { nativeModules } from '@sessionbridge/core/adapter'
import { djangoCodec, djangoUsers, dumps, loads } from '@sessionbridge/django'
import { type SessionEnv, sessionMiddleware } from '@sessionbridge/hono'
import { type D1DatabaseLike, d1Client, sqlBackend } from '@sessionbridge/sql'
import { Hono, type MiddlewareHandler } from 'hono'

interface Bindings {
  DB: D1DatabaseLike
  SECRET_KEY: string
}

const SIGNING_SALT = 'edge.test'

/** Session routes over one middleware: the same on the Django and the native layout. */
function sessionRoutes<User extends AuthUser>(
  middleware: MiddlewareHandler<SessionEnv<SessionData, User>>,
): Hono<SessionEnv<SessionData, User>> {
  const app = new Hono<SessionEnv<SessionData, User>>()
  app.use(middleware)
  app.post('/write', async (c) => {
    const { key, value } = await c.req.json<{ key: string; value: unknown }>()
    c.get('session').set(key, value)
    return c.json({ ok: true })
  })
  app.get('/read', async (c) =>
    c.json({ value: (await c.get('session').get(c.req.query('key') ?? '')) ?? null }),
  )
  app.get('/whoami', async (c) => c.json({ user: (await c.get('user'))?.username ?? null }))
  app.post('/logout', (c) => {
    c.get('logout')()
    return c.body(null, 204)
  })
  return app
}

function build(env: Bindings): Hono {
  const client = d1Client(env.DB)
  const users = djangoUsers({ client, secretKey: env.SECRET_KEY })
  const django = sessionRoutes(
    sessionMiddleware({
      backend: sqlBackend({ client, layout: 'django', codec: djangoCodec({ secretKey: env.SECRET_KEY }) }),
      users,
    }),
  )
  django.post('/login', async (c) => {
    const { username, password } = await c.req.json<{ username: string; password: string }>()
    const user = await users.findByLogin(username)
    if (!(await users.verifyPassword(user, password)) || !user) return c.json({ ok: false }, 401)
    await c.get('login')(user)
    return c.json({ ok: true, id: String(user.id) })
  })
  const native = sessionRoutes(sessionMiddleware({ backend: sqlBackend({ client, layout: 'native' }) }))

  const app = new Hono()
  app.route('/django', django)
  app.route('/native', native)
  app.post('/sign', async (c) =>
    c.text(await dumps(await c.req.json(), { key: env.SECRET_KEY, salt: SIGNING_SALT, compress: true })),
  )
  app.post('/unsign', async (c) =>
    c.json(await loads(await c.req.text(), { key: env.SECRET_KEY, salt: SIGNING_SALT })),
  )
  app.get('/runtime', (c) =>
    c.json({
      userAgent: navigator.userAgent,
      compressionStream: typeof CompressionStream,
      nativeModules: nativeModules !== null,
    }),
  )
  return app
}

let app: Hono | null = null
export default {
  fetch(request: Request, env: Bindings) {
    app ??= build(env)
    return app.fetch(request, env)
  },
}

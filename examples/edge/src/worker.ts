// The edge app: a Cloudflare Worker (Hono) that shares the login of examples/shared-login through
// the rest-sessions service. It reads the same session cookie, loads the same session over `fetch`,
// and its logout deletes the session in the service, so every other app sees it gone.
import { AUTH_SESSION_KEYS } from '@sessionbridge/core/adapter'
import { type SessionEnv, sessionMiddleware } from '@sessionbridge/hono'
import { restSessionsBackend } from '@sessionbridge/rest-sessions'
import { type Context, Hono, type MiddlewareHandler } from 'hono'

/** The Worker's bindings (wrangler `vars`, or miniflare `bindings`). */
export interface EdgeBindings {
  /** Base URL of the rest-sessions service, e.g. `https://sessions.internal.example`. */
  SESSION_URL: string
  /** The rest-sessions app name the Node apps use. @default 'shared-login' */
  SESSION_APP?: string
  /** The session cookie of the Node apps. @default 'sessionid' */
  SESSION_COOKIE_NAME?: string
}

type Env = SessionEnv & { Bindings: EdgeBindings }

/** The key the shared-login apps (and Django's views) keep their counter under. */
const COUNT_KEY = 'count'

/** A form post from the page goes back to the page; scripts get JSON. */
const fromForm = (c: { req: { header(name: string): string | undefined } }) =>
  (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

// Bindings arrive with the first request; the middleware (and its backend) is built once per isolate.
let sessions: MiddlewareHandler<SessionEnv> | null = null
const sessionsFor = (env: EdgeBindings): MiddlewareHandler<SessionEnv> =>
  (sessions ??= sessionMiddleware({
    backend: restSessionsBackend({
      url: env.SESSION_URL,
      app: env.SESSION_APP || 'shared-login',
      anonymousId: 'anonymous',
    }),
    cookie: { name: env.SESSION_COOKIE_NAME || 'sessionid' },
  }))

/** The login this session carries: the user id the Node apps (or Django) stored at login. */
async function loginOf(c: { get(key: 'session'): SessionEnv['Variables']['session'] }) {
  const id = await c.get('session').get(AUTH_SESSION_KEYS.userId)
  return typeof id === 'string' && id !== '' ? id : null
}

export const app = new Hono<Env>()
// The session middleware needs no bindings of its own: same context, narrower type.
app.use((c, next) => sessionsFor(c.env)(c as unknown as Context<SessionEnv>, next))
app.onError((error, c) =>
  'getResponse' in error
    ? (error as { getResponse(): Response }).getResponse()
    : c.json({ error: 'internal error' }, 500),
)

app.get('/whoami', async (c) => {
  const id = await loginOf(c)
  return c.json({ authenticated: id !== null, id, at: 'edge' })
})

app.post('/counter', async (c) => {
  const session = c.get('session')
  const count = Number((await session.get(COUNT_KEY)) ?? 0) + 1
  session.set(COUNT_KEY, count)
  return fromForm(c) ? c.redirect('/', 303) : c.json({ count })
})

app.post('/logout', (c) => {
  c.get('logout')()
  return fromForm(c) ? c.redirect('/', 303) : c.body(null, 204)
})

app.get('/', async (c) => {
  const id = await loginOf(c)
  const count = Number((await c.get('session').get(COUNT_KEY)) ?? 0)
  const who = id === null ? 'not logged in' : `logged in as user #${escapeHtml(id)}`
  return c.html(`<!doctype html>
<meta charset="utf-8"><title>sessionbridge at the edge</title>
<h1>Edge (Cloudflare Worker, Hono)</h1>
<p>You are <strong>${who}</strong>. Counter: <strong>${count}</strong>.</p>
<form method="post" action="/counter"><button>+1</button></form>
<form method="post" action="/logout"><button>Log out everywhere</button></form>
<p>Log in on one of the shared-login apps, then come back.</p>`)
})

export default app

import type { AuthenticateResult, AuthUser, Session, SessionData, UserSource } from '@sessionbridge/core'
import { safeNext, withQueryFlag } from './next.ts'
import { renderPage } from './page.ts'

/** Largest request body the contract reads (a login form is far smaller). */
export const MAX_BODY_BYTES = 16 * 1024
/** The session key of the counter; Django's views use the same one. */
export const COUNT_KEY = 'count'

/** What one request offers the contract, whatever the framework. */
export interface ContractContext {
  session: Session<SessionData>
  /** The lazy user of the request (a query only when awaited). */
  user(): Promise<AuthUser | null>
  login(user: AuthUser): Promise<void>
  logout(): void | Promise<void>
  /** The framework's throttled credentials check (client address included). */
  authenticate(username: string, password: string): Promise<AuthenticateResult<AuthUser>>
  /** A CSRF token for a form; makes the `csrftoken` cookie be sent (Django's `get_token`). */
  csrfToken(): Promise<string>
}

/** A framework-free answer: each app copies it onto its own response. */
export interface ContractReply {
  status: number
  /** `Content-Type` of `body`. */
  type?: 'application/json' | 'text/html; charset=utf-8' | 'text/plain; charset=utf-8'
  body?: string
  /** For 303 redirects. */
  location?: string
  /** Other headers (`retry-after`). */
  headers?: Record<string, string>
}

/** Options of `createContract`. */
export interface ContractOptions {
  /** The users (passwords are checked through `ContractContext.authenticate`). */
  users: UserSource
  /** This app's name, shown on its page. */
  app: string
  /** The session backend, shown on the page. */
  backend: string
  /** The other apps, linked from the page; may be filled in after start. */
  links: () => ReadonlyArray<readonly [string, string]>
}

type Fields = Record<'username' | 'password' | 'next', string>

const json = (status: number, value: unknown): ContractReply => ({
  status,
  type: 'application/json',
  body: JSON.stringify(value),
})
const redirect = (location: string): ContractReply => ({ status: 303, location })

/**
 * `username`, `password` and `next` from a JSON or urlencoded body. Returns `null` for a malformed
 * or oversized body; fields of the wrong type become ''.
 */
export function parseFields(contentType: string | undefined, text: string): Fields | null {
  if (text.length > MAX_BODY_BYTES) return null
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  let source: Record<string, unknown> = {}
  if (type === 'application/json') {
    try {
      const parsed: unknown = text === '' ? {} : JSON.parse(text)
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null
      source = parsed as Record<string, unknown>
    } catch {
      return null
    }
  } else if (type === 'application/x-www-form-urlencoded' || type === '') {
    source = Object.fromEntries(new URLSearchParams(text))
  } else {
    return null
  }
  const field = (key: string) => (typeof source[key] === 'string' ? (source[key] as string) : '')
  return { username: field('username'), password: field('password'), next: field('next') }
}

const publicUser = (user: AuthUser) => ({ id: String(user.id), username: user.username })

/** The example's HTTP contract, written once; `fastify.ts`, `koa.ts` and `hono.ts` only bind it. */
export function createContract(options: ContractOptions) {
  return {
    /** `GET /`: the page. */
    async page(ctx: ContractContext, query: URLSearchParams): Promise<ContractReply> {
      const user = await ctx.user()
      const count = await ctx.session.get(COUNT_KEY)
      const csrfToken = await ctx.csrfToken()
      const html = renderPage({
        csrfToken,
        app: options.app,
        backend: options.backend,
        user: user ? publicUser(user) : null,
        count: typeof count === 'number' ? count : 0,
        links: options.links(),
        loginFailed: query.has('error'),
      })
      return { status: 200, type: 'text/html; charset=utf-8', body: html }
    },

    /** `POST /login`: 200 `{ id, username }` with the session cookie, 401 `{ error }`, 429 when throttled. */
    async login(ctx: ContractContext, fields: Fields | null): Promise<ContractReply> {
      if (!fields) return json(400, { error: 'send username and password as JSON or a form' })
      const next = safeNext(fields.next)
      // Throttle first (no hash over the limit), then one hash whether the user exists or not.
      const result = await ctx.authenticate(fields.username, fields.password)
      if (result.status === 'throttled') {
        const retryAfter = String(result.retryAfterSeconds)
        return { ...json(429, { error: 'too many login attempts' }), headers: { 'retry-after': retryAfter } }
      }
      const candidate = result.status === 'ok' ? result.user : null
      if (!candidate) {
        return next
          ? redirect(withQueryFlag(next, 'error'))
          : json(401, { error: 'invalid username or password' })
      }
      await ctx.login(candidate)
      return next ? redirect(next) : json(200, publicUser(candidate))
    },

    /** `POST /logout`: 204, the session deleted everywhere. */
    async logout(ctx: ContractContext, fields: Fields | null): Promise<ContractReply> {
      await ctx.logout()
      const next = fields ? safeNext(fields.next) : null
      return next ? redirect(next) : { status: 204 }
    },

    /** `GET /whoami`; sets the `csrftoken` cookie when absent (Django's `ensure_csrf_cookie`). */
    async whoami(ctx: ContractContext): Promise<ContractReply> {
      await ctx.csrfToken()
      const user = await ctx.user()
      return json(
        200,
        user
          ? { authenticated: true, ...publicUser(user) }
          : { authenticated: false, id: null, username: null },
      )
    },

    /** `POST /counter`: one more in the session, with `session.update()` where the store allows. */
    async counter(ctx: ContractContext, fields: Fields | null): Promise<ContractReply> {
      const increment = (current: unknown) =>
        (typeof current === 'number' && Number.isSafeInteger(current) ? current : 0) + 1
      // Atomic against the store (no lost increment under parallel requests) wherever the backend
      // can; rest-sessions on the original server cannot, and keeps the plain read-then-write.
      // canUpdate() waits for a backend that learns its capabilities from its server (rest-sessions)
      // to have asked it: the first request after start takes the atomic path too.
      let count: number
      if (await ctx.session.canUpdate()) count = (await ctx.session.update(COUNT_KEY, increment)) as number
      else {
        count = increment(await ctx.session.get(COUNT_KEY))
        ctx.session.set(COUNT_KEY, count)
      }
      const next = fields ? safeNext(fields.next) : null
      return next ? redirect(next) : json(200, { count })
    },

    /** `GET /feed` (behind `loggedInOrBasicAuth`). */
    feed(user: AuthUser | null): ContractReply {
      const name = user?.username ?? 'someone'
      const body = `News for ${name} from ${options.app}:\n- one login, four apps\n- sessions in ${options.backend}\n`
      return { status: 200, type: 'text/plain; charset=utf-8', body }
    },

    /** `GET /admin-feed` (behind `permissionOrBasicAuth('auth.view_user')`). */
    adminFeed(user: AuthUser | null): ContractReply {
      const body = `Admin news for ${user?.username ?? 'someone'} from ${options.app}: user list access granted\n`
      return { status: 200, type: 'text/plain; charset=utf-8', body }
    },
  }
}

/** The bound contract. */
export type Contract = ReturnType<typeof createContract>
/** The permission the admin feed asks for. */
export const ADMIN_PERMISSION = 'auth.view_user'
/** The Basic realm of the guarded routes. */
export const REALM = 'sessionbridge shared login'

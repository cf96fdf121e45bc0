import type { SessionManagerOptions, TicketStore } from '@sessionbridge/core'
import type { ContractReply } from './contract.ts'
import type { ExampleStack } from './stack.ts'

/** What every app factory (`createFastifyApp`, `createKoaApp`, `createHonoApp`) is given. */
export interface ExampleAppOptions {
  /** The shared session backend, users and tickets. */
  stack: ExampleStack
  /** The session cookie's name (Django's `SESSION_COOKIE_NAME`). */
  cookieName: string
  /** The other apps, for the page's links; read on every page view, so it may be filled in later. */
  links?: () => ReadonlyArray<readonly [string, string]>
}

/** A startable, stoppable app. */
export interface ExampleApp {
  /** Fastify, Koa or Hono. */
  readonly name: string
  /** Listens on `port` (0 = any free one) and resolves to the app's URL. */
  listen(port: number, host?: string): Promise<string>
  /** Stops accepting connections and waits for the open ones to finish. */
  close(): Promise<void>
}

/** Node's `server.address()` as a URL. */
export function urlOf(address: unknown, host: string): string {
  const port = address && typeof address === 'object' && 'port' in address ? Number(address.port) : 0
  return `http://${host}:${port}`
}

/** The headers of a contract reply, for frameworks that take a header map. */
export function replyHeaders(reply: ContractReply): Record<string, string> {
  const headers: Record<string, string> = {}
  if (reply.type) headers['content-type'] = reply.type
  if (reply.location) headers.location = reply.location
  if (reply.headers) Object.assign(headers, reply.headers)
  return headers
}

/**
 * The session options every app passes to its framework package (add `users`): the shared
 * backend, the cookie, the stack's timeout and its ticket store (so `logout()` revokes the user's
 * unconsumed tickets). `TRUST_PROXY` (`stack.trustProxy`) goes to each
 * framework's own proxy setting instead (Fastify's `trustProxy`, Koa's `app.proxy`, Express's
 * `trust proxy`, the Hono package's `trustProxy`): one rule, the framework's, decides whether a request came over HTTPS.
 */
export function sessionOptions(options: ExampleAppOptions) {
  const { stack } = options
  return {
    backend: stack.backend,
    cookie: { name: options.cookieName, secure: stack.cookieSecure ? true : ('auto' as const) },
    timeout: stack.sessionTimeout,
    tickets: stack.tickets,
  } satisfies SessionManagerOptions & { tickets: TicketStore }
}

// What the Hono middleware reads from a request and writes to its response: headers (Node's parsed
// ones when @hono/node-server runs it), HTTPS, the CSRF check's input, the cookies and Hono's own
// error answer.
import { isSecureRequest } from '@sessionbridge/core/adapter'
import type { Context } from 'hono'

type NodeBindings = {
  incoming?: { headers?: Record<string, string | string[] | undefined>; socket?: { remoteAddress?: string } }
}

/** `@hono/node-server`'s socket address; other runtimes have none without help. */
export function socketAddress(c: Context): string | null {
  return (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress ?? null
}

/**
 * A request header. On `@hono/node-server` the Node request is `c.env.incoming`: reading its parsed
 * headers directly spares building a `Headers` object on every request. Elsewhere: Web APIs.
 */
export function header(c: Context, name: string): string | undefined {
  const headers = (c.env as NodeBindings | undefined)?.incoming?.headers
  if (headers && typeof headers === 'object') {
    const value = headers[name]
    return Array.isArray(value) ? value[0] : value
  }
  return c.req.header(name)
}

/** Hono's own default error answer (the app built no other): only this one may be replaced. */
export async function isDefaultErrorAnswer(response: Response): Promise<boolean> {
  if (response.status !== 500 || !response.headers.get('content-type')?.startsWith('text/plain')) return false
  return (await response.clone().text()) === 'Internal Server Error'
}

/** Adds the commit's `Set-Cookie` values to the response the handlers made. */
export function appendCookies(c: Context, cookies: readonly string[]): void {
  for (const cookie of cookies) {
    try {
      // In place: c.header() would rebuild the response around its body stream, which costs
      // @hono/node-server its fast path for plain bodies.
      c.res.headers.append('Set-Cookie', cookie)
    } catch {
      c.header('Set-Cookie', cookie, { append: true }) // immutable headers (Response.redirect, fetch)
    }
  }
}

/** Whether the request came over HTTPS (`X-Forwarded-Proto` only under `trustProxy`). */
export const isSecure = (c: Context, trustProxy: boolean) =>
  isSecureRequest(
    {
      protocol: c.req.url.startsWith('https:') ? 'https' : 'http',
      forwardedProto: header(c, 'x-forwarded-proto'),
    },
    trustProxy,
  )

/** What the CSRF check reads; the form field only from a form body. */
export const checkInput = (c: Context) => ({
  method: c.req.method,
  path: c.req.path,
  header: (name: string) => header(c, name),
  formField: async (name: string) => {
    const type = c.req.header('content-type') ?? ''
    if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return undefined
    const value = (await c.req.parseBody())[name]
    return typeof value === 'string' ? value : undefined
  },
})

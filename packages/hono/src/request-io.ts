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
  if (appendToLightweight(c.res, cookies)) return
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

/** The symbol under which @hono/node-server's lightweight `Response` keeps its parts, once seen. */
let partsKey: symbol | undefined

/**
 * @hono/node-server answers with a lightweight `Response` that keeps `[status, body, headers]`
 * under a symbol described `cache` until something reads its `headers`: reading them builds a Web
 * `Headers`, which the server turns back into a header record to send (about 3 µs of a 20 µs Hono
 * increment, `bench/`). When that tuple holds no headers or a plain record of them (`c.text()`,
 * `c.json()`), the cookies go into a copy of the record (the handler's object may be shared by
 * several responses). `false`: any other response, or another shape, takes the Web API way.
 */
function appendToLightweight(res: Response, cookies: readonly string[]): boolean {
  partsKey ??= Object.getOwnPropertySymbols(res).find((key) => key.description === 'cache')
  const parts = partsKey === undefined ? undefined : (res as unknown as Record<symbol, unknown>)[partsKey]
  if (!Array.isArray(parts) || parts.length !== 3 || typeof parts[0] !== 'number') return false
  const record: unknown = parts[2]
  if (record === undefined) {
    parts[2] = { 'content-type': 'text/plain; charset=UTF-8', 'set-cookie': [...cookies] }
    return true
  }
  if (record === null || typeof record !== 'object' || Object.getPrototypeOf(record) !== Object.prototype)
    return false
  const copy: Record<string, unknown> = {}
  let sent: string[] = []
  for (const [name, value] of Object.entries(record)) {
    // Any spelling of the name: the server writes the record as it is, one line per entry.
    if (name.toLowerCase() !== 'set-cookie') copy[name] = value
    else if (typeof value === 'string') sent.push(value)
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) sent = sent.concat(value)
    else return false
  }
  copy['set-cookie'] = [...sent, ...cookies]
  parts[2] = copy
  return true
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

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
  const value = nodeHeader(c.env, name)
  return value === null ? c.req.header(name) : value
}

/** `header` for a `Request` and the bindings it came with (what `sessionFetch` has before Hono runs). */
export function requestHeader(request: Request, env: unknown, name: string): string | undefined {
  const value = nodeHeader(env, name)
  return value === null ? (request.headers.get(name) ?? undefined) : value
}

/** A header of `@hono/node-server`'s Node request; `null` elsewhere. */
function nodeHeader(env: unknown, name: string): string | undefined | null {
  const headers = (env as NodeBindings | undefined)?.incoming?.headers
  if (!headers || typeof headers !== 'object') return null
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Hono's own default error answer (the app built no other): only this one may be replaced. */
export async function isDefaultErrorAnswer(response: Response): Promise<boolean> {
  if (response.status !== 500 || !response.headers.get('content-type')?.startsWith('text/plain')) return false
  return (await response.clone().text()) === 'Internal Server Error'
}

/**
 * A plain-text answer (the generic 503, 409, 500). Its header record is made for each answer:
 * `@hono/node-server` adds `Content-Length` to the record it sends.
 */
export const textAnswer = (status: number, body: string) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=UTF-8' } })

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

/** `appendCookies` for a response outside Hono: in place, or on a copy when its headers are immutable. */
export function withCookies(res: Response, cookies: readonly string[]): Response {
  if (cookies.length === 0) return res
  const parts = lightweightParts(res)
  const record = parts && recordWithCookies(parts[2], cookies)
  // A new lightweight response, not its parts changed: reading its body would make the Web
  // `Response` from the headers it was made with (no server reads it when the caller is no server).
  if (record) return new Response(parts[1] as BodyInit, { status: parts[0], headers: record as HeadersInit })
  let answer = res
  try {
    for (const cookie of cookies) answer.headers.append('Set-Cookie', cookie)
  } catch {
    // The first append throws (Response.redirect, a fetch's answer): none was added.
    answer = new Response(res.body, res)
    for (const cookie of cookies) answer.headers.append('Set-Cookie', cookie)
  }
  return answer
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
  const parts = lightweightParts(res)
  const record = parts && recordWithCookies(parts[2], cookies)
  if (!record) return false
  parts[2] = record
  return true
}

/** A lightweight response's `[status, body, headers]`; `null` for any other. */
function lightweightParts(res: Response): [number, unknown, unknown] | null {
  partsKey ??= Object.getOwnPropertySymbols(res).find((key) => key.description === 'cache')
  const parts = partsKey === undefined ? undefined : (res as unknown as Record<symbol, unknown>)[partsKey]
  if (!Array.isArray(parts) || parts.length !== 3 || typeof parts[0] !== 'number') return null
  return parts as [number, unknown, unknown]
}

/** A copy of a plain header record (or Hono's default one) with the cookies; `null` for another shape. */
function recordWithCookies(record: unknown, cookies: readonly string[]): Record<string, unknown> | null {
  if (record === undefined) return { 'content-type': 'text/plain; charset=UTF-8', 'set-cookie': [...cookies] }
  if (record === null || typeof record !== 'object' || Object.getPrototypeOf(record) !== Object.prototype)
    return null
  const copy: Record<string, unknown> = {}
  let sent: string[] = []
  for (const [name, value] of Object.entries(record)) {
    // Any spelling of the name: the server writes the record as it is, one line per entry.
    if (name.toLowerCase() !== 'set-cookie') copy[name] = value
    else if (typeof value === 'string') sent.push(value)
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) sent = sent.concat(value)
    else return null
  }
  copy['set-cookie'] = [...sent, ...cookies]
  return copy
}

/** Whether a request came over HTTPS (`X-Forwarded-Proto` only under `trustProxy`). */
export const isSecureFetch = (request: Request, env: unknown, trustProxy: boolean) =>
  isSecureRequest(
    {
      protocol: request.url.startsWith('https:') ? 'https' : 'http',
      forwardedProto: requestHeader(request, env, 'x-forwarded-proto'),
    },
    trustProxy,
  )

/** `isSecureFetch` of a context's request. */
export const isSecure = (c: Context, trustProxy: boolean) => isSecureFetch(c.req.raw, c.env, trustProxy)

const FORM = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i

/** What the CSRF check reads; the form field only from a form body. */
export const checkInput = (c: Context) => ({
  method: c.req.method,
  path: c.req.path,
  header: (name: string) => header(c, name),
  formField: async (name: string) => {
    const type = c.req.header('content-type') ?? ''
    if (!FORM.test(type)) return undefined
    const value = (await c.req.parseBody())[name]
    return typeof value === 'string' ? value : undefined
  },
})

/**
 * `checkInput` before Hono runs (`sessionFetch`): the form field from a copy of the body, which the
 * handlers still read whole; a body that is no valid form has no field.
 */
export const checkFetchInput = (request: Request, env: unknown) => ({
  method: request.method,
  path: pathOf(request.url),
  header: (name: string) => requestHeader(request, env, name),
  formField: async (name: string) => {
    if (!FORM.test(requestHeader(request, env, 'content-type') ?? '')) return undefined
    const value = await request
      .clone()
      .formData()
      .then(
        (form) => form.get(name),
        () => null,
      )
    return typeof value === 'string' ? value : undefined
  },
})

/** The path of an absolute URL, without its query. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const end = url.indexOf('?', start)
  return url.slice(start, end === -1 ? undefined : end)
}

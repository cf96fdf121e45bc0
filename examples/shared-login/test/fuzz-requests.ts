/** fast-check arbitraries for whole HTTP requests to the example's apps. */
import fc from 'fast-check'
import { FUZZ_USERS } from './fuzz-stack.ts'

/** The example's routes (every one of them), and near misses. */
export const ROUTES = [
  '/',
  '/login',
  '/logout',
  '/whoami',
  '/counter',
  '/ticket',
  '/feed',
  '/admin-feed',
] as const

/** Who the request claims to be, by cookie: set up by a real login just before the case. */
export type CookieKind = 'none' | 'demo' | 'auditor' | 'garbage'

/** One generated request. `cookie` is sent before (or instead of) the logged-in session cookie. */
export interface FuzzRequest {
  method: string
  path: string
  query: string
  headers: Record<string, string>
  /** The session to log in first and send as `sessionid` (its cookie goes after `headers.cookie`). */
  session: CookieKind
  body: string | null
  /** Every backend call fails during this request (the answer may then be 503, never a leak). */
  backendDown: boolean
  /** Send the app's valid CSRF token (cookie and `X-CSRFToken`), so unsafe requests get past it. */
  withCsrf: boolean
}

/** What Node's HTTP client can put in a header: tab, printable ASCII, obs-text; no edge whitespace. */
export const asHeaderValue = (text: string): string =>
  text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').replace(/^[\t ]+|[\t ]+$/g, '')

const utf8 = new TextEncoder()
/** Percent-encodes what a request target cannot carry raw, leaving `%` sequences (valid or not) alone. */
const asTarget = (text: string): string =>
  Array.from(text, (c) =>
    /[\x21-\x7e]/.test(c) && c !== '#'
      ? c
      : Array.from(utf8.encode(c), (b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  ).join('')

const unicode = (maxLength: number) => fc.string({ unit: 'binary', maxLength })
const tricky = (maxLength: number) =>
  fc.string({
    unit: fc.constantFrom(...'aZ09/\\.%?&=#;:@+ "\'<>`{}|^~\t\n\r\u0000\u007f\u0085\u00ff€😀\u2028'),
    maxLength,
  })

/** `next` values: the issue's `%2F%E2%82%AC` (`/€`), controls, DEL, > U+00FF, schemes, `//host`. */
export const nextValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '/',
    '/€',
    '/\u007f',
    '/\u0000',
    '/\r\nX: y',
    '//evil.example',
    '/\\evil',
    'http://evil.example/',
  ),
  fc.constantFrom('/', '//', '/\\').chain((p) => tricky(40).map((s) => p + s)),
  unicode(60).map((s) => `/${s}`),
  unicode(60),
  fc.string({ minLength: 2000, maxLength: 2100 }).map((s) => `/${s}`),
)

const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: unicode(40) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(...Object.values(FUZZ_USERS).flatMap((u) => [u.username, u.password])),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
)

/** A JSON or form body: login-shaped fields (with real credentials now and then), or anything. */
const loginFields = fc.record(
  { username: fieldValue, password: fieldValue, next: fc.oneof(nextValue, fieldValue), extra: fieldValue },
  { requiredKeys: [] },
)

const jsonBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: loginFields.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"x":1}}}'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 8000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 8000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
  },
  { weight: 1, arbitrary: unicode(200) },
)

const formBody: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 5,
    arbitrary: loginFields.map((v) =>
      new URLSearchParams(
        Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]),
      ).toString(),
    ),
  },
  { weight: 2, arbitrary: tricky(200) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('username=x&password=y&next=%2F%E2%82%AC', 'next=%2F%7F', 'a=%ZZ&&&='),
  },
)

const bigBody = fc.integer({ min: 15_000, max: 70_000 }).map((n) => `username=${'x'.repeat(n)}`)

const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constant('application/json') },
  { weight: 4, arbitrary: fc.constant('application/x-www-form-urlencoded') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=latin1',
      'APPLICATION/JSON',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded; charset=utf-16',
      '',
      ';;;',
    ),
  },
  { weight: 1, arbitrary: tricky(40).map(asHeaderValue) },
)

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const authorization = fc.oneof(
  fc.constantFrom(
    basic(FUZZ_USERS.demo.username, FUZZ_USERS.demo.password),
    basic(FUZZ_USERS.auditor.username, FUZZ_USERS.auditor.password),
    basic(FUZZ_USERS.inactive.username, FUZZ_USERS.inactive.password),
    basic('demo', 'wrong'),
    'Basic',
    'Basic %%%',
    'Bearer x',
  ),
  fc.tuple(unicode(30), unicode(30)).map(([u, p]) => basic(u, p)),
  unicode(80).map((s) => `Basic ${Buffer.from(s, 'latin1').toString('base64')}`),
  tricky(80).map(asHeaderValue),
)

const cookieHeader = fc.oneof(
  tricky(120).map(asHeaderValue),
  fc
    .array(fc.tuple(fc.constantFrom('sessionid', 'csrftoken', 'x', ''), tricky(40)), { maxLength: 12 })
    .map((pairs) => asHeaderValue(pairs.map(([k, v]) => `${k}=${v}`).join('; '))),
  fc.integer({ min: 100, max: 600 }).map((n) => Array.from({ length: n }, (_, i) => `c${i}=v`).join('; ')),
  fc.constant(`sessionid=${'a'.repeat(10_000)}`),
)

const headers: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'content-type': contentType,
    authorization,
    cookie: cookieHeader,
    'x-forwarded-proto': fc.constantFrom('https', 'http', 'https, http', 'gopher', ''),
    'x-forwarded-for': tricky(30).map(asHeaderValue),
    host: fc.oneof(
      fc.constantFrom(
        'localhost',
        'evil.example',
        '[::1]:1',
        'a'.repeat(300),
        '9a@0:80',
        'user@127.0.0.1',
        'a b',
      ),
      tricky(20).map(asHeaderValue),
    ),
    origin: fc.constantFrom('null', 'http://evil.example', 'http://127.0.0.1'),
    accept: fc.constantFrom('*/*', 'text/html', 'application/json', ''),
  },
  { requiredKeys: [] },
)

const path = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ROUTES) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...ROUTES), fc.constantFrom('/', '//', '/..', '%00', '%2F', '%', '.json', '/x'))
      .map(([r, s]) => r + s),
  },
  { weight: 1, arbitrary: tricky(60).map((s) => `/${asTarget(s)}`) },
)

const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.constantFrom('?error=1', '?error', '?next=%2F%E2%82%AC', '?a=%ff', '?%') },
  { weight: 2, arbitrary: tricky(60).map((s) => `?${asTarget(s)}`) },
)

/** A whole request: method, path, query, headers, session, body. */
export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('GET', 'POST') },
    { weight: 1, arbitrary: fc.constantFrom('HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'FOO') },
  ),
  path,
  query,
  headers,
  session: fc.constantFrom<CookieKind>('none', 'none', 'demo', 'auditor', 'garbage'),
  body: fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 4, arbitrary: formBody },
    { weight: 4, arbitrary: jsonBody },
    { weight: 1, arbitrary: bigBody },
  ),
  backendDown: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  withCsrf: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
})

import { describe, expect, it } from 'vitest'
import {
  CSRF_ALLOWED_CHARS,
  CSRF_SESSION_KEY,
  type CsrfRequest,
  createSessionManager,
  csrfProtection,
  djangoCsrfTokens,
  isSameDomain,
  memoryBackend,
  SessionConfigError,
} from '../src/index.ts'

const post = (extra: Partial<CsrfRequest> = {}): CsrfRequest => ({
  method: 'POST',
  host: 'app.example',
  secure: false,
  origin: 'http://app.example',
  ...extra,
})
const cookieOf = (setCookie: string | null) => /^csrftoken=([^;]*)/.exec(setCookie ?? '')?.[1] ?? null

describe('Django token codec', () => {
  it('masks and unmasks: every masked form of a secret carries it, and masks differ', () => {
    const tokens = djangoCsrfTokens({ djangoVersion: '3.2' })
    const secret = tokens.newSecret()
    expect(secret).toMatch(/^[A-Za-z0-9]{32}$/)
    const a = tokens.mask(secret)
    const b = tokens.mask(secret)
    expect(a).not.toBe(b)
    expect(tokens.secretOf(a)).toBe(secret)
    expect(tokens.secretOf(b)).toBe(secret)
    expect(tokens.matches(a, secret)).toBe(true)
    expect(tokens.matches(secret, secret)).toBe(true)
    expect(tokens.matches(tokens.mask(tokens.newSecret()), secret)).toBe(false)
  })

  it('unmasks a known Django vector (mask "a"*32 is the identity; mask "b"*32 shifts by one)', () => {
    const tokens = djangoCsrfTokens()
    const secret = 'Z9'.repeat(16)
    expect(tokens.secretOf(`${'a'.repeat(32)}${secret}`)).toBe(secret)
    const shifted = [...secret]
      .map((c) => CSRF_ALLOWED_CHARS[(CSRF_ALLOWED_CHARS.indexOf(c) + 1) % 62])
      .join('')
    expect(tokens.secretOf(`${'b'.repeat(32)}${shifted}`)).toBe(secret)
  })

  it('refuses malformed tokens without throwing', () => {
    const tokens = djangoCsrfTokens()
    for (const bad of [
      null,
      undefined,
      '',
      'a'.repeat(31),
      'a'.repeat(33),
      `${'a'.repeat(63)}!`,
      'é'.repeat(32),
    ]) {
      expect(tokens.secretOf(bad)).toBeNull()
      expect(tokens.matches(bad, 'a'.repeat(32))).toBe(false)
    }
  })

  it('writes the masked cookie up to 4.0, the bare secret from 4.1, and checks the options', () => {
    expect(djangoCsrfTokens({ djangoVersion: '3.2' }).cookieValue('a'.repeat(32))).toHaveLength(64)
    expect(djangoCsrfTokens({ djangoVersion: '4.0' }).cookieMasked).toBe(true)
    expect(djangoCsrfTokens({ djangoVersion: '4.1' }).cookieValue('a'.repeat(32))).toBe('a'.repeat(32))
    expect(djangoCsrfTokens({ djangoVersion: '4.2', cookieMasked: true }).cookieMasked).toBe(true)
    expect(djangoCsrfTokens({ djangoVersion: '5.2' }).cookieMasked).toBe(false)
    expect(() => djangoCsrfTokens({ djangoVersion: '5.2', cookieMasked: true })).toThrow(SessionConfigError)
    expect(() => djangoCsrfTokens({ djangoVersion: '3.2', cookieMasked: false })).toThrow(/cookieMasked/)
    expect(() => djangoCsrfTokens({ djangoVersion: 'latest' })).toThrow(/djangoVersion/)
  })
})

describe('csrfProtection', () => {
  const csrf = csrfProtection({ trustedOrigins: ['https://*.example.org', 'http://partner.example'] })

  it('mints a cookie on token(), and the token passes; safe methods always pass', async () => {
    const first = csrf.open({ cookie: null })
    expect(await first.check({ ...post(), method: 'GET' })).toEqual({ ok: true })
    const token = await first.token()
    const setCookie = await first.commit(false)
    expect(setCookie).toMatch(
      /^csrftoken=[A-Za-z0-9]{32}; Max-Age=31449600; Path=\/; Expires=.*; SameSite=Lax$/,
    )
    const next = csrf.open({ cookie: `csrftoken=${cookieOf(setCookie)}` })
    expect(await next.check(post({ headerToken: token }))).toEqual({ ok: true })
    expect(await next.check(post({ formToken: async () => token }))).toEqual({ ok: true })
    expect(await next.commit(false)).toBeNull() // nothing used: no cookie renewal
  })

  it('refuses with a reason code and Django’s text', async () => {
    const minted = csrf.open({ cookie: null })
    const token = await minted.token()
    const cookie = `csrftoken=${cookieOf(await minted.commit(true))}`
    const reasons = async (start: string | null, request: CsrfRequest) => {
      const decision = await csrf.open({ cookie: start }).check(request)
      return decision.ok ? 'ok' : `${decision.status} ${decision.reason}`
    }
    expect(await reasons(cookie, post({ origin: 'http://evil.example', headerToken: token }))).toBe(
      '403 bad-origin',
    )
    expect(await reasons(null, post({ headerToken: token }))).toBe('403 no-cookie')
    expect(await reasons('csrftoken=bad!', post({ headerToken: token }))).toBe('403 bad-cookie')
    expect(await reasons(cookie, post())).toBe('403 token-missing')
    expect(await reasons(cookie, post({ headerToken: 'short' }))).toBe('403 token-format')
    expect(
      await reasons(cookie, post({ headerToken: token.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) })),
    ).toBe('403 token-incorrect')
    const secure = { secure: true, origin: null, headerToken: token }
    expect(await reasons(cookie, post(secure))).toBe('403 no-referer')
    expect(await reasons(cookie, post({ ...secure, referer: 'http://app.example/' }))).toBe(
      '403 insecure-referer',
    )
    expect(await reasons(cookie, post({ ...secure, referer: 'https://evil.example/' }))).toBe(
      '403 bad-referer',
    )
    expect(await reasons(cookie, post({ ...secure, referer: '::' }))).toBe('403 malformed-referer')
    expect(await reasons(cookie, post({ ...secure, referer: 'https://app.example/x' }))).toBe('ok')
    expect(await reasons(cookie, post({ origin: 'https://a.b.example.org', headerToken: token }))).toBe('ok')
    expect(await reasons(cookie, post({ origin: 'http://a.example.org', headerToken: token }))).toBe(
      '403 bad-origin',
    )
    expect(await reasons(cookie, post({ origin: 'http://partner.example', headerToken: token }))).toBe('ok')
    expect(await reasons(cookie, post({ origin: 'null', headerToken: token }))).toBe('403 bad-origin')
    const decision = await csrf
      .open({ cookie })
      .check(post({ origin: 'http://evil.example', headerToken: token }))
    expect(decision).toMatchObject({
      message: 'Origin checking failed - http://evil.example does not match any trusted origins.',
    })
  })

  it('Sec-Fetch-Site: same-origin stands in for Origin/Referer, never for the token', async () => {
    const minted = csrf.open({ cookie: null })
    const token = await minted.token()
    const cookie = `csrftoken=${cookieOf(await minted.commit(true))}`
    const request = post({ secure: true, origin: null, secFetchSite: 'same-origin' })
    expect(await csrf.open({ cookie }).check({ ...request, headerToken: token })).toEqual({ ok: true })
    expect(await csrf.open({ cookie }).check(request)).toMatchObject({ ok: false, reason: 'token-missing' })
    const crossSite = post({ origin: 'http://evil.example', secFetchSite: 'cross-site', headerToken: token })
    expect(await csrf.open({ cookie }).check(crossSite)).toMatchObject({ ok: false, reason: 'bad-origin' })
    const off = csrfProtection({ secFetchSite: false })
    expect(await off.open({ cookie }).check({ ...request, headerToken: token })).toMatchObject({
      reason: 'no-referer',
    })
  })

  it('the form field wins over the header; an empty or unreadable field falls back to the header', async () => {
    const minted = csrf.open({ cookie: null })
    const token = await minted.token()
    const cookie = `csrftoken=${cookieOf(await minted.commit(false))}`
    const check = (request: Partial<CsrfRequest>) => csrf.open({ cookie }).check(post(request))
    expect(await check({ formToken: () => 'x'.repeat(64), headerToken: token })).toMatchObject({
      reason: 'token-incorrect',
    })
    expect(await check({ formToken: () => '', headerToken: token })).toEqual({ ok: true })
    expect(
      await check({ formToken: () => Promise.reject(new Error('aborted')), headerToken: token }),
    ).toEqual({ ok: true })
    expect(await check({ method: 'PUT', formToken: () => 'x'.repeat(64), headerToken: token })).toEqual({
      ok: true,
    })
  })

  it('rotation ends every earlier token; logout rotates the cookie too', async () => {
    const minted = csrf.open({ cookie: null })
    const before = await minted.token()
    const cookie = `csrftoken=${cookieOf(await minted.commit(false))}`
    const login = csrf.open({ cookie })
    login.onLogin()
    const rotated = `csrftoken=${cookieOf(await login.commit(false))}`
    expect(rotated).not.toBe(cookie)
    expect(await csrf.open({ cookie: rotated }).check(post({ headerToken: before }))).toMatchObject({
      ok: false,
    })
    const logout = csrf.open({ cookie: rotated })
    logout.onLogout()
    expect(cookieOf(await logout.commit(false))).not.toBe(cookieOf(rotated))
  })

  it('a malformed cookie is replaced at commit', async () => {
    const state = csrf.open({ cookie: 'csrftoken=%%%' })
    expect(await state.check(post())).toMatchObject({ reason: 'bad-cookie' })
    expect(cookieOf(await state.commit(false))).toMatch(/^[A-Za-z0-9]{32}$/)
  })

  it('useSessions keeps the token in the session under _csrftoken, in the version’s format', async () => {
    const backend = memoryBackend()
    const manager = createSessionManager({ backend })
    const protection = csrfProtection({ useSessions: true, djangoVersion: '3.2' })
    const session = manager.openWithoutCookie({ protocol: 'http' })
    const state = protection.open({ cookie: null, session })
    const token = await state.token()
    expect(await state.commit(false)).toBeNull()
    const stored = await session.get(CSRF_SESSION_KEY)
    expect(stored).toMatch(/^[A-Za-z0-9]{64}$/)
    const { setCookie } = await session.commit()
    const again = await manager.open({ cookie: setCookie!.split(';')[0]!, protocol: 'http' })
    const next = protection.open({ cookie: null, session: again })
    expect(await next.check(post({ headerToken: token }))).toEqual({ ok: true })
    next.onLogout()
    expect(await next.commit(false)).toBeNull()
  })

  it('checks its options at startup', () => {
    expect(() => csrfProtection({ trustedOrigins: ['example.com'] })).toThrow(/trustedOrigins/)
    expect(() => csrfProtection({ trustedOrigins: ['https://*.example.com/path'] })).toThrow(
      SessionConfigError,
    )
    expect(() => csrfProtection({ headerName: 'X CSRF' })).toThrow(/headerName/)
    expect(csrfProtection({ headerName: 'HTTP_X_XSRF_TOKEN' }).headerName).toBe('x-xsrf-token')
    expect(() => csrfProtection({ cookie: { maxAgeSeconds: 0 } })).toThrow(/maxAgeSeconds/)
    expect(() => csrfProtection({ cookie: { sameSite: 'none', secure: false } })).toThrow(/sameSite/)
  })

  it('isSameDomain is Django’s', () => {
    expect(isSameDomain('a.example.com', '.example.com')).toBe(true)
    expect(isSameDomain('example.com', '.example.com')).toBe(true)
    expect(isSameDomain('badexample.com', '.example.com')).toBe(false)
    expect(isSameDomain('Example.com', 'example.com')).toBe(true)
    expect(isSameDomain('example.com', '')).toBe(false)
  })
})

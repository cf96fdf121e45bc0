import { fileURLToPath } from 'node:url'
import { type CsrfProtection, type CsrfRequest, csrfProtection } from '@sessionbridge/core'
import { djangoVersions } from '@sessionbridge/test-services/django-versions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pythonPeer } from './helpers.ts'

// CSRF tokens crossing between core's csrfProtection and a real Django CsrfViewMiddleware
// (test/django/csrf_peer.py), for each Django release that is installed here.
const SCRIPT = fileURLToPath(new URL('./django/csrf_peer.py', import.meta.url))
const TRUSTED = ['https://*.example.org']
const HOST = 'app.example'

// The version matrix (3.2 system, 4.2 and 5.2 from scripts/django-lts.sh): a loud skip locally
// when a version is missing, a failure in CI.
const versions = await djangoVersions()

interface PeerRequest {
  method?: string
  host?: string
  secure?: boolean
  origin?: string
  referer?: string
  header?: string
  field?: string
  cookies?: Record<string, string>
}
interface PeerReply {
  ok: boolean
  reason?: string
  result?: string | null
  status: number
  cookies: Record<string, string>
}

function startPeer(python: string, versionEnv: Readonly<Record<string, string>>) {
  const peer = pythonPeer(python, SCRIPT, {
    ...versionEnv,
    SB_CSRF_TRUSTED: JSON.stringify(TRUSTED),
    PYTHONWARNINGS: 'ignore',
  })
  return {
    call: peer.call,
    run: (cmd: 'check' | 'token' | 'login', args: PeerRequest) =>
      peer.call<PeerReply>(cmd, args as Record<string, unknown>),
    close: peer.close,
  }
}

/** Core's verdict on the same request the peer gets. */
async function coreCheck(csrf: CsrfProtection, request: PeerRequest) {
  const cookie = Object.entries(request.cookies ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('; ')
  const state = csrf.open({ cookie })
  const facts: CsrfRequest = {
    method: request.method ?? 'POST',
    host: request.host ?? HOST,
    secure: request.secure ?? false,
    origin: request.origin ?? null,
    referer: request.referer ?? null,
    headerToken: request.header ?? null,
    formToken: () => request.field ?? null,
  }
  return state.check(facts)
}

/** Core mints a token (GET page with `token()`), optionally from an existing cookie. */
async function coreMint(csrf: CsrfProtection, cookieValue?: string) {
  const state = csrf.open({ cookie: cookieValue ? `csrftoken=${cookieValue}` : '' })
  const token = await state.token()
  const setCookie = await state.commit(false)
  const value = /^csrftoken=([^;]*)/.exec(setCookie ?? '')?.[1] ?? ''
  return { token, cookie: value, state }
}

const flip = (token: string, at: number) =>
  token.slice(0, at) + (token[at] === 'a' ? 'b' : 'a') + token.slice(at + 1)

for (const { line: version, python, env, available } of versions) {
  describe.skipIf(!available)(`CSRF tokens cross between core and Django ${version}`, () => {
    let peer: ReturnType<typeof startPeer>
    const csrf = csrfProtection({ djangoVersion: version, trustedOrigins: TRUSTED })
    const origin = `http://${HOST}`

    beforeAll(async () => {
      peer = startPeer(python, env)
      const reported = await peer.call<{ version: string }>('version')
      expect(reported.version.startsWith(`${version}.`)).toBe(true)
    })
    afterAll(() => peer?.close())

    it('a Django-minted token passes core, in the header and the form field', async () => {
      const minted = await peer.run('token', { method: 'GET' })
      const cookies = { csrftoken: minted.cookies.csrftoken! }
      expect(minted.result).toMatch(/^[A-Za-z0-9]{64}$/)
      expect(await coreCheck(csrf, { cookies, header: minted.result!, origin })).toEqual({ ok: true })
      expect(await coreCheck(csrf, { cookies, field: minted.result!, origin })).toEqual({ ok: true })
      // A script may also send the cookie's own value (masked on 3.2, bare on 4.1+).
      expect(await coreCheck(csrf, { cookies, header: cookies.csrftoken, origin })).toEqual({ ok: true })
    })

    it('a core-minted cookie and token pass Django, and the cookie has Django’s own format', async () => {
      const django = await peer.run('token', { method: 'GET' })
      const ours = await coreMint(csrf)
      expect(ours.cookie.length).toBe(django.cookies.csrftoken!.length)
      const cookies = { csrftoken: ours.cookie }
      for (const request of [
        { cookies, header: ours.token, origin },
        { cookies, field: ours.token, origin },
      ]) {
        const reply = await peer.run('check', request)
        expect(reply.reason).toBeUndefined()
        expect(reply.ok).toBe(true)
      }
      // Django keeps the cookie Node wrote and mints further tokens from the same secret.
      const again = await peer.run('token', { method: 'GET', cookies })
      expect(await coreCheck(csrf, { cookies, header: again.result!, origin })).toEqual({ ok: true })
    })

    it('tampered, foreign, malformed and missing tokens are refused by both', async () => {
      const ours = await coreMint(csrf)
      const foreign = await coreMint(csrf)
      const cookies = { csrftoken: ours.cookie }
      const cases: PeerRequest[] = [
        { cookies, header: flip(ours.token, 40), origin },
        { cookies, header: flip(ours.token, 3), origin },
        { cookies, header: foreign.token, origin },
        { cookies, field: foreign.token, origin },
        { cookies, header: `${ours.token.slice(0, 63)}!`, origin },
        { cookies, header: ours.token.slice(0, 50), origin },
        { cookies, origin },
        { header: ours.token, origin },
        { cookies: { csrftoken: flip(ours.cookie, 5) }, header: ours.token, origin },
        { cookies: { csrftoken: 'not-a-token' }, header: ours.token, origin },
      ]
      for (const request of cases) {
        const django = await peer.run('check', request)
        const core = await coreCheck(csrf, request)
        expect({ request, django: django.ok, core: core.ok }).toEqual({ request, django: false, core: false })
        expect(django.status).toBe(403)
      }
    })

    it('origin and HTTPS Referer checks agree (3.2 has no Origin check: only core refuses there)', async () => {
      const { token, cookie } = await coreMint(csrf)
      const cookies = { csrftoken: cookie }
      const base = { cookies, header: token }
      // [request, verdict of core and Django 4.0+, verdict of Django 3.2 where it differs]
      const cases: [PeerRequest, boolean, boolean?][] = [
        // 3.2 reads only the Referer on HTTPS, so an Origin alone does not satisfy it.
        [{ ...base, origin: `https://${HOST}`, secure: true }, true, false],
        [{ ...base, origin: `https://${HOST}`, secure: true, referer: `https://${HOST}/` }, true],
        [{ ...base, origin: 'https://sub.example.org', secure: true }, true, false],
        [{ ...base, secure: true, referer: `https://${HOST}/page` }, true],
        [{ ...base, secure: true, referer: 'https://deep.sub.example.org/' }, true],
        [{ ...base, secure: true }, false],
        [{ ...base, secure: true, referer: `http://${HOST}/page` }, false],
        [{ ...base, secure: true, referer: 'https://evil.example/' }, false],
        [{ ...base, secure: true, referer: 'not a url' }, false],
        [{ ...base }, true],
      ]
      for (const [request, expected, expected32] of cases) {
        const django = await peer.run('check', request)
        const core = await coreCheck(csrf, request)
        const djangoExpected = version === '3.2' && expected32 !== undefined ? expected32 : expected
        expect({ request, django: django.ok, core: core.ok }).toEqual({
          request,
          django: djangoExpected,
          core: expected,
        })
      }
      const crossSite = { ...base, origin: 'http://evil.example' }
      expect((await coreCheck(csrf, crossSite)).ok).toBe(false)
      expect((await peer.run('check', crossSite)).ok).toBe(version === '3.2')
    })

    it('a login on Django rotates the token: core refuses the old one, accepts the new', async () => {
      const before = await peer.run('token', { method: 'GET' })
      const cookies = { csrftoken: before.cookies.csrftoken! }
      const login = await peer.run('login', { cookies, header: before.result!, origin })
      expect(login.ok).toBe(true)
      const rotated = { csrftoken: login.cookies.csrftoken! }
      expect(csrf.tokens.secretOf(rotated.csrftoken)).not.toBe(csrf.tokens.secretOf(cookies.csrftoken))
      expect((await coreCheck(csrf, { cookies: rotated, header: before.result!, origin })).ok).toBe(false)
      expect(await coreCheck(csrf, { cookies: rotated, header: login.result!, origin })).toEqual({ ok: true })
    })

    it('a login on core rotates the token: Django refuses the old one, accepts the new', async () => {
      const before = await coreMint(csrf)
      const state = csrf.open({ cookie: `csrftoken=${before.cookie}` })
      state.onLogin()
      const fresh = await state.token()
      const cookie = /^csrftoken=([^;]*)/.exec((await state.commit(false)) ?? '')?.[1] ?? ''
      expect(cookie).not.toBe('')
      const rotated = { csrftoken: cookie }
      expect((await peer.run('check', { cookies: rotated, header: before.token, origin })).ok).toBe(false)
      expect((await peer.run('check', { cookies: rotated, header: fresh, origin })).ok).toBe(true)
    })
  })
}

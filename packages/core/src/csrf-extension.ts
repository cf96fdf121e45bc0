import { type CsrfOptions, type CsrfProtection, type CsrfState, csrfProtection } from './csrf.ts'
import { SessionConfigError } from './errors.ts'
import type { ExtensionAnswer, RequestCheckInput, RequestExtension, RequestSession } from './request.ts'
import type { Session } from './session.ts'
import type { SessionData } from './types.ts'

/** The `csrf` option of every framework package: core's `CsrfOptions` plus the opt-out. */
export interface CsrfExtensionOptions extends CsrfOptions {
  /**
   * Requests the check skips, e.g. an API authenticated by Basic or bearer credentials that no
   * browser sends on its own (`({ path }) => path.startsWith('/api/')`). Fastify routes can also say
   * `config: { csrf: false }`. @default none
   */
  exempt?: (request: { method: string; path: string }) => boolean
}

/** The CSRF extension the framework packages run through the session driver. */
export interface CsrfExtension extends RequestExtension {
  readonly protection: CsrfProtection
  /** The request's token state, made on first use from its `Cookie` header. */
  stateOf(request: RequestSession, cookieHeader: string | null | undefined): CsrfState
  /** Django's `get_token` for this request: a fresh masked token; the cookie is (re)sent. */
  token(request: RequestSession, cookieHeader: string | null | undefined): Promise<string>
}

const KEY = 'csrf'
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

const refusal = (reason: string): ExtensionAnswer => ({
  status: 403,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify({ error: 'CSRF verification failed', reason }),
})

/**
 * Django-compatible CSRF protection as a driver extension: the check before the handler (403 with
 * a reason code), rotation at login and logout, and the `csrftoken` cookie at the end.
 */
export function csrfExtension(options: CsrfExtensionOptions = {}, pkg = 'core'): CsrfExtension {
  const { exempt, ...csrfOptions } = options
  if (exempt !== undefined && typeof exempt !== 'function') {
    throw new SessionConfigError(pkg, 'csrf.exempt', '%s must be a function ({ method, path }) => boolean')
  }
  const protection = csrfProtection(csrfOptions, pkg)

  const existing = (request: RequestSession) =>
    (request.extensionData?.[KEY] as CsrfState | undefined) ?? null
  const stateOf = (request: RequestSession, cookieHeader: string | null | undefined) => {
    let state = existing(request)
    if (!state) {
      const session = protection.useSessions ? (request.session as unknown as Session<SessionData>) : null
      state = protection.open({ cookie: cookieHeader, session })
      request.extensionData = { ...request.extensionData, [KEY]: state }
    }
    return state
  }

  return Object.freeze({
    name: KEY,
    protection,
    stateOf,
    token: (request: RequestSession, cookieHeader: string | null | undefined) =>
      stateOf(request, cookieHeader).token(),
    async check(request: RequestSession, input: RequestCheckInput) {
      const method = input.method.toUpperCase()
      if (SAFE.has(method)) return null
      if (exempt?.({ method, path: input.path ?? '/' })) return null
      const decision = await stateOf(request, input.header('cookie')).check({
        method,
        host: input.header('host'),
        secure: request.secure,
        origin: input.header('origin'),
        referer: input.header('referer'),
        secFetchSite: input.header('sec-fetch-site'),
        headerToken: input.header(protection.headerName),
        formToken: () => input.formField(protection.fieldName),
      })
      return decision.ok ? null : refusal(decision.reason)
    },
    onAuthChange(request: RequestSession, event: 'login' | 'logout') {
      // Rotation ignores the old secret, so a request that never checked needs no cookie here.
      const state = stateOf(request, null)
      if (event === 'login') state.onLogin()
      else state.onLogout()
    },
    setCookies(request: RequestSession) {
      const cookie = existing(request)?.commit(request.secure)
      return cookie ? [cookie] : []
    },
  })
}

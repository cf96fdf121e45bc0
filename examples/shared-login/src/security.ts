import type { CsrfExtensionOptions } from '@sessionbridge/core'
import type { ExampleConfig } from './config.ts'

/**
 * The CSRF options every Node app of the example uses: Django's defaults (cookie `csrftoken`,
 * header `X-CSRFToken`, field `csrfmiddlewaretoken`) and the token format of the Django beside them
 * (`DJANGO_VERSION`: 3.2 writes a masked cookie, 4.2/5.2 the bare secret; every version accepts
 * both), so one token serves all four apps.
 */
export function exampleCsrf(config: Pick<ExampleConfig, 'djangoVersion'>): CsrfExtensionOptions {
  return Object.freeze({ djangoVersion: config.djangoVersion })
}

/**
 * The response headers every app of the example sends, the same as Django's `SecurityMiddleware`
 * and `XFrameOptionsMiddleware` send with their defaults: no framing, no MIME sniffing, no full
 * URL in the `Referer` of cross-origin requests. Each Node app sets them on every response
 * (`fastify.ts`, `koa.ts`, `hono.ts`, `express.ts`); a new app does the same with this map.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
})

/**
 * A `Host` header RFC 9110 allows: `host[:port]`, a host being a registered name, IPv4 or an
 * `[IPv6]` literal, and nothing else (no userinfo `@`, no path, no space). `@hono/node-server`
 * builds the request URL from it, and its own check lets some invalid values through
 * (`9a@0:80` is read as credentials and turns into a 500 when the `Request` is built), so the Hono
 * app answers 400 to these before Hono sees them, as Django's `get_host` does. A missing header is
 * allowed (HTTP/1.0).
 */
export function isValidHostHeader(host: string | undefined): boolean {
  return (
    host === undefined || /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+)(?::[0-9]{0,5})?$/.test(host)
  )
}

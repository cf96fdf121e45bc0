/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}

/** What the page shows. */
export interface PageView {
  /** This app's name: Fastify, Koa, Hono, Express. */
  app: string
  /** The session backend, as printed at start. */
  backend: string
  user: { id: string; username: string } | null
  count: number
  /** The other apps: `[name, url]`. */
  links: ReadonlyArray<readonly [string, string]>
  /** The last login attempt failed. */
  loginFailed: boolean
  /** The CSRF token every form posts as `csrfmiddlewaretoken`. */
  csrfToken: string
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}' +
  'h1 small{font-size:.5em;color:#666;font-weight:normal}label{display:block;margin:.3rem 0}' +
  '.error{color:#b00}form{margin:.5rem 0}nav li{margin:.2rem 0}'

/**
 * The example's one page, server-rendered: who is logged in, the counter, a login form and links
 * to the other apps. Forms carry `next=/` so the contract routes answer the browser with a redirect.
 */
export function renderPage(view: PageView): string {
  const token = `<input type="hidden" name="csrfmiddlewaretoken" value="${escapeHtml(view.csrfToken)}">`
  const account = view.user
    ? `<p class="user">Logged in as <strong id="username">${escapeHtml(view.user.username)}</strong> (id ${escapeHtml(view.user.id)})</p>
<form method="post" action="/logout"><input type="hidden" name="next" value="/">${token}<button type="submit">Log out</button></form>`
    : `<p class="user">Not logged in.</p>${view.loginFailed ? '<p class="error">Wrong username or password.</p>' : ''}
<form method="post" action="/login" class="login"><input type="hidden" name="next" value="/">${token}
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Log in</button></form>`
  const links = view.links.map(
    ([name, url]) => `<li><a href="${escapeHtml(url)}">${escapeHtml(name)}</a></li>`,
  )
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(view.app)} · sessionbridge shared login</title>
<style>${STYLE}</style></head><body>
<h1><span id="app">${escapeHtml(view.app)}</span> <small>sessions in ${escapeHtml(view.backend)}</small></h1>
${account}
<form method="post" action="/counter"><input type="hidden" name="next" value="/">${token}
<p>Counter: <strong id="count">${escapeHtml(view.count)}</strong> <button type="submit">+1</button></p></form>
<p><a href="/feed">Feed</a> (login or Basic auth) · <a href="/admin-feed">Admin feed</a> (needs auth.view_user)</p>
<nav><p>The same session in the other apps:</p><ul>${links.join('')}</ul></nav>
</body></html>`
}

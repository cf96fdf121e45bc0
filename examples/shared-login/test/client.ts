type RequestOptions = RequestInit & {
  json?: unknown
  form?: Record<string, string>
  /**
   * Send the `csrftoken` cookie's value as `X-CSRFToken` on unsafe methods, as a page script does,
   * fetching `/whoami` first when there is no cookie yet. @default true
   */
  csrf?: boolean
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/**
 * A tiny HTTP client with one cookie jar, as a browser has: cookies ignore ports, so the session
 * and CSRF cookies set by one app on 127.0.0.1 are sent to every other app on 127.0.0.1.
 */
export class Client {
  readonly cookies = new Map<string, string>()

  async request(url: string, init: RequestOptions = {}) {
    const headers = new Headers(init.headers)
    const method = (init.method ?? 'GET').toUpperCase()
    if (!SAFE.has(method) && init.csrf !== false) {
      if (!this.cookies.has('csrftoken')) await this.request(`${new URL(url).origin}/whoami`)
      const token = this.cookies.get('csrftoken')
      if (token && !headers.has('x-csrftoken')) headers.set('x-csrftoken', token)
    }
    let body = init.body
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(init.json)
    } else if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded')
      body = new URLSearchParams(init.form).toString()
    }
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '))
    }
    const { json: _json, form: _form, csrf: _csrf, ...rest } = init
    const response = await fetch(url, { ...rest, headers, body, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) this.#store(line)
    return response
  }

  #store(line: string): void {
    const [pair, ...attributes] = line.split(';')
    const eq = pair!.indexOf('=')
    const name = pair!.slice(0, eq).trim()
    const value = pair!
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
    const expired = attributes.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a))
    if (expired || value === '') this.cookies.delete(name)
    else this.cookies.set(name, value)
  }

  async json<T = Record<string, unknown>>(url: string, init: RequestOptions = {}) {
    const response = await this.request(url, init)
    return { status: response.status, body: (await response.json()) as T }
  }

  whoami(base: string) {
    return this.json<{ authenticated: boolean; id: string | null; username: string | null }>(`${base}/whoami`)
  }

  login(base: string, username: string, password: string) {
    return this.json<{ id?: string; username?: string; error?: string }>(`${base}/login`, {
      method: 'POST',
      json: { username, password },
    })
  }
}

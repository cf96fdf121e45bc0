/**
 * A tiny HTTP client with one cookie jar, as a browser has: cookies ignore ports, so the session
 * cookie set by one app on 127.0.0.1 is sent to every other app on 127.0.0.1.
 */
export class Client {
  readonly cookies = new Map<string, string>()

  async request(url: string, init: RequestInit & { json?: unknown; form?: Record<string, string> } = {}) {
    const headers = new Headers(init.headers)
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
    const response = await fetch(url, { ...init, headers, body, redirect: 'manual' })
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

  async json<T = Record<string, unknown>>(url: string, init: Parameters<Client['request']>[1] = {}) {
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

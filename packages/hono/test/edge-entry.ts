// Bundled with esbuild (platform "neutral": no Node built-ins can resolve) and evaluated in the
// edge VM by edge.test.ts. Exposes one function on globalThis that answers with plain JSON.
import { memoryBackend, memoryTicketStore, memoryUserSource } from '@sessionbridge/core'
import { buildApp } from './app.ts'

const users = memoryUserSource({
  users: [{ id: 1, username: 'alice', password: 'edge:password', permissions: ['reports.view_report'] }],
  iterations: 1000,
})
const app = buildApp({
  session: { backend: memoryBackend(), secrets: ['edge-secret-0123456789abcdef'] },
  users,
  tickets: memoryTicketStore(),
  realm: 'edge',
  permission: 'reports.view_report',
  trustProxy: false,
})

Object.assign(globalThis, {
  async handleJson(method: string, url: string, headers: Record<string, string>): Promise<string> {
    const response = await app.fetch(new Request(url, { method, headers }))
    return JSON.stringify({
      status: response.status,
      setCookie: response.headers.getSetCookie(),
      body: await response.text(),
    })
  },
})

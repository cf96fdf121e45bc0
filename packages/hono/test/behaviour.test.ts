import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { BehaviourApp, BehaviourAppOptions } from '@sessionbridge/core/testing/http'
import { testFrameworkBehaviour } from '@sessionbridge/core/testing/http'
import { buildApp } from './app.ts'

/** Drives the app with `app.request`, in process. */
async function inProcess(options: BehaviourAppOptions): Promise<BehaviourApp> {
  const app = buildApp(options)
  return { fetch: async (request) => app.request(request), close: async () => {} }
}

/** Drives the app on `@hono/node-server` over a real listening socket (port 0). */
async function listening(options: BehaviourAppOptions): Promise<BehaviourApp> {
  const app = buildApp(options)
  const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
    (resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
        resolve({ server: s, port: info.port }),
      )
    },
  )
  const base = `http://127.0.0.1:${port}`
  return {
    fetch(request) {
      const url = new URL(request.url)
      return fetch(base + url.pathname + url.search, {
        method: request.method,
        headers: request.headers,
        redirect: 'manual',
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

testFrameworkBehaviour({ name: 'hono (app.request)', makeApp: inProcess })
testFrameworkBehaviour({ name: 'hono (node-server socket)', makeApp: listening })

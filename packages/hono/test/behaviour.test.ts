import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { BehaviourApp, BehaviourAppOptions } from '@sessionbridge/core/testing/http'
import { forwardTo, testFrameworkBehaviour } from '@sessionbridge/core/testing/http'
import { buildFetch, type Integration } from './app.ts'

/** Drives the app's `fetch` in process. */
const inProcess =
  (integration: Integration) =>
  async (options: BehaviourAppOptions): Promise<BehaviourApp> => {
    const fetch = buildFetch(options, integration)
    return { fetch: async (request) => fetch(request), close: async () => {} }
  }

/** Drives the app on `@hono/node-server` over a real listening socket (port 0). */
const listening =
  (integration: Integration) =>
  async (options: BehaviourAppOptions): Promise<BehaviourApp> => {
    const appFetch = buildFetch(options, integration)
    const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>(
      (resolve) => {
        const s = serve({ fetch: appFetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
          resolve({ server: s, port: info.port }),
        )
      },
    )
    const base = `http://127.0.0.1:${port}`
    return {
      fetch: forwardTo(base),
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    }
  }

testFrameworkBehaviour({ name: 'hono (app.fetch)', makeApp: inProcess('middleware') })
testFrameworkBehaviour({ name: 'hono (node-server socket)', makeApp: listening('middleware') })
testFrameworkBehaviour({ name: 'hono sessionFetch (in process)', makeApp: inProcess('fetch') })
testFrameworkBehaviour({ name: 'hono sessionFetch (node-server socket)', makeApp: listening('fetch') })

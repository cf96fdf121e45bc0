// The Worker module of the workerd behaviour suite: the suite's Hono app (../app.ts), built per
// test app from the settings Node sends, with its stores reached over the NODE service binding.
import { buildFetch, type Integration } from '../app.ts'
import {
  APP_HEADER,
  type BridgeConfig,
  bridgedOptions,
  CLOCK_HEADER,
  caller,
  INTEGRATION_HEADER,
} from './bridge.ts'

interface Env {
  NODE: { fetch(input: string, init: RequestInit): Promise<Response> }
}

type AppFetch = (request: Request) => Response | Promise<Response>
const apps = new Map<string, Promise<AppFetch>>()
// The suite moves its clock to test idle expiry; each request brings the offset it is at.
let clockOffset = 0
const now = () => Date.now() + clockOffset

async function appFor(id: string, env: Env, integration: Integration): Promise<AppFetch> {
  const call = caller(env.NODE, id)
  const response = await env.NODE.fetch('http://node/config', {
    method: 'POST',
    body: JSON.stringify({ app: id }),
  })
  if (!response.ok) throw new Error(`no bridge config for app ${id}: ${response.status}`)
  const config = (await response.json()) as BridgeConfig
  return buildFetch(bridgedOptions(config, call, now), integration)
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (new URL(request.url).pathname === '/__runtime') {
      return Response.json({ userAgent: navigator.userAgent, process: typeof process })
    }
    const id = request.headers.get(APP_HEADER)
    if (!id) return new Response('missing app header', { status: 400 })
    clockOffset = Number(request.headers.get(CLOCK_HEADER) ?? 0)
    const integration = request.headers.get(INTEGRATION_HEADER) === 'fetch' ? 'fetch' : 'middleware'
    let app = apps.get(id)
    if (!app) {
      app = appFor(id, env, integration)
      apps.set(id, app)
    }
    return (await app)(request)
  },
}

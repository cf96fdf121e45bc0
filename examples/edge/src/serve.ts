// Serves the edge Worker locally: bundled by esbuild as `wrangler deploy` would bundle it, and run
// by workerd (Cloudflare's runtime) through miniflare, on a local port.
import { fileURLToPath } from 'node:url'
import {
  bundleWorker,
  type Miniflare,
  startWorker,
  type WorkerBundle,
} from '@sessionbridge/test-services/workerd'

/** Options of `startEdge`. */
export interface StartEdgeOptions {
  /** The rest-sessions service the Worker loads sessions from. */
  sessionUrl: string
  /** @default 'shared-login' */
  sessionApp?: string
  /** @default 'sessionid' */
  cookieName?: string
  /** Local port; `0` picks a free one. @default 3005 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
}

/** The running edge Worker. */
export interface RunningEdge {
  url: string
  /** The production (minified) bundle that workerd runs. */
  bundle: WorkerBundle
  mf: Miniflare
  stop(): Promise<void>
}

export const WORKER_ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** Bundles `src/worker.ts` minified, as a production build would. */
export function bundleEdge(): Promise<WorkerBundle> {
  return bundleWorker(WORKER_ENTRY, { minify: true })
}

/** Bundles the Worker and serves it with workerd on `host:port`. */
export async function startEdge(options: StartEdgeOptions): Promise<RunningEdge> {
  const bundle = await bundleEdge()
  const host = options.host ?? '127.0.0.1'
  const mf = await startWorker(bundle.code, {
    host,
    port: options.port ?? 3005,
    bindings: {
      SESSION_URL: options.sessionUrl,
      SESSION_APP: options.sessionApp ?? 'shared-login',
      SESSION_COOKIE_NAME: options.cookieName ?? 'sessionid',
    },
  })
  const url = (await mf.ready).toString().replace(/\/$/, '')
  return { url, bundle, mf, stop: () => mf.dispose() }
}

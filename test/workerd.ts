// Workers in workerd (Cloudflare's runtime, through miniflare 4) for the edge suites: a Worker
// module bundled the way a user's build bundles it, then served by a real workerd process.
import { build, type Plugin } from 'esbuild'
import { Miniflare, type MiniflareOptions, type SharedOptions, type WorkerOptions } from 'miniflare'

export { Miniflare }

/** The Workers date the suites pin, so a new workerd does not change behaviour under them. */
export const COMPATIBILITY_DATE = '2025-09-01'

/** One bundled Worker module. */
export interface WorkerBundle {
  /** The ES module text. */
  code: string
  /** Its size in bytes, and gzipped (what Cloudflare counts against the Worker size limit). */
  bytes: number
  gzipBytes: number
}

/** Options of `bundleWorker`. */
export interface BundleWorkerOptions {
  /**
   * Bare imports left out of the bundle, as esbuild's `external` would (`*` is a wildcard). Each
   * becomes a module that throws when imported, because workerd (like the Workers upload) takes no
   * unresolved imports: code that only imports them on demand still runs. @default []
   */
  external?: string[]
  /** Minify, as a production build would. @default false */
  minify?: boolean
}

/**
 * Bundles `entry` as a Worker: ES module, platform "neutral" with the `workerd`/`worker`/`browser`
 * conditions, so no Node built-in and no Node-only entry point can resolve.
 */
export async function bundleWorker(entry: string, options: BundleWorkerOptions = {}): Promise<WorkerBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    // @sessionbridge/source: sibling packages from their sources, as everywhere in the workspace.
    conditions: ['@sessionbridge/source', 'workerd', 'worker', 'browser', 'import', 'default'],
    target: 'es2022',
    minify: options.minify ?? false,
    plugins: options.external?.length ? [leftOut(options.external)] : [],
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]!.text
  const bytes = new TextEncoder().encode(code).length
  const gzipped = await new Response(
    new Blob([code]).stream().pipeThrough(new CompressionStream('gzip')),
  ).arrayBuffer()
  return { code, bytes, gzipBytes: gzipped.byteLength }
}

/** The esbuild plugin behind `external`. */
function leftOut(patterns: string[]): Plugin {
  const pattern = (p: string) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')
  const filter = new RegExp(`^(?:${patterns.map(pattern).join('|')})$`)
  return {
    name: 'left-out',
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'left-out' }))
      build.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not in this Worker bundle`)})`,
        loader: 'js',
      }))
    },
  }
}

/** Starts workerd on `script` (an ES module) with the suites' defaults; `dispose()` stops it. */
export async function startWorker(
  script: string,
  options: SharedOptions & Omit<WorkerOptions, 'script' | 'modules' | 'scriptPath' | 'modulesRoot'> = {},
): Promise<Miniflare> {
  const mf = new Miniflare({
    compatibilityDate: COMPATIBILITY_DATE,
    ...options,
    modules: true,
    script,
  } as MiniflareOptions)
  await mf.ready
  return mf
}

/**
 * A Worker that runs D1 calls sent by `bridgedD1` over a WebSocket: each call runs on `env.DB`
 * inside workerd as it arrives, concurrently with the others (a `batch` stays one atomic batch).
 */
export const D1_BRIDGE_WORKER = `
const statement = (db, s) => db.prepare(s.sql).bind(...s.params)
const runOne = (db, op) =>
  op.kind === 'batch' ? db.batch(op.statements.map((s) => statement(db, s)))
  : op.kind === 'raw' ? statement(db, op).raw({ columnNames: true })
  : statement(db, op).all()
export default {
  fetch(request, env) {
    if (request.headers.get('upgrade') !== 'websocket') return new Response('websocket only', { status: 426 })
    const [client, server] = Object.values(new WebSocketPair())
    server.accept()
    server.addEventListener('message', (event) => {
      const { id, op } = JSON.parse(event.data)
      runOne(env.DB, op).then(
        (value) => server.send(JSON.stringify({ id, ok: true, value })),
        (error) => server.send(JSON.stringify({ id, ok: false, message: String((error && error.message) || error) })),
      )
    })
    return new Response(null, { status: 101, webSocket: client })
  },
}`

type D1Op =
  | { kind: 'all' | 'raw'; sql: string; params: unknown[] }
  | { kind: 'batch'; statements: Array<{ sql: string; params: unknown[] }> }

/** What `bridgedD1` hands out: the D1 API the adapters use (prepare, bind, all, raw, batch). */
export interface BridgedD1Statement {
  readonly sql: string
  readonly params: unknown[]
  bind(...values: unknown[]): BridgedD1Statement
  all(): Promise<{ results?: unknown[]; meta?: { changes?: number } }>
  raw(options: { columnNames: true }): Promise<unknown[][]>
}

/**
 * D1 driven from Node through `D1_BRIDGE_WORKER`: every call travels over one WebSocket and runs
 * inside workerd on the Worker's binding (miniflare's own binding proxy costs an HTTP round trip
 * per call, too slow for the suites' hundreds of statements on a loaded machine).
 */
export async function bridgedD1(mf: Miniflare) {
  const response = await mf.dispatchFetch('http://d1.bridge/', { headers: { upgrade: 'websocket' } })
  const socket = response.webSocket
  if (!socket) throw new Error(`the D1 bridge did not upgrade: ${response.status}`)
  socket.accept()
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  let next = 0
  socket.addEventListener('message', (event) => {
    const answer = JSON.parse(String(event.data)) as {
      id: number
      ok: boolean
      value?: unknown
      message?: string
    }
    const call = waiting.get(answer.id)
    waiting.delete(answer.id)
    if (answer.ok) call?.resolve(answer.value)
    else call?.reject(new Error(answer.message))
  })
  socket.addEventListener('close', () => {
    for (const call of waiting.values()) call.reject(new Error('the D1 bridge closed'))
    waiting.clear()
  })
  const send = <T>(op: D1Op) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject })
      socket.send(JSON.stringify({ id, op }))
    })
  const statement = (sql: string, params: unknown[]): BridgedD1Statement => ({
    sql,
    params,
    bind: (...values) => statement(sql, values),
    all: () => send({ kind: 'all', sql, params }),
    raw: () => send({ kind: 'raw', sql, params }),
  })
  return {
    prepare: (sql: string) => statement(sql, []),
    batch: (statements: BridgedD1Statement[]) =>
      send<Array<{ results?: unknown[]; meta?: { changes?: number } }>>({
        kind: 'batch',
        statements: statements.map((s) => ({ sql: s.sql, params: s.params })),
      }),
    close: () => socket.close(),
  }
}

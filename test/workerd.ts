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
    conditions: ['workerd', 'worker', 'browser', 'import', 'default'],
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
 * A Worker that runs D1 calls sent by `bridgedD1`: every call of one flush runs concurrently on
 * `env.DB`, inside workerd, as separate D1 calls (a `batch` stays one atomic batch).
 */
export const D1_BRIDGE_WORKER = `
const statement = (db, s) => db.prepare(s.sql).bind(...s.params)
const runOne = (db, op) =>
  op.kind === 'batch' ? db.batch(op.statements.map((s) => statement(db, s)))
  : op.kind === 'raw' ? statement(db, op).raw({ columnNames: true })
  : statement(db, op).all()
export default {
  async fetch(request, env) {
    const ops = await request.json()
    const answers = await Promise.all(ops.map((op) => runOne(env.DB, op).then(
      (value) => ({ ok: true, value }),
      (error) => ({ ok: false, message: String(error && error.message || error) }),
    )))
    return Response.json(answers)
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
 * D1 driven from Node through `D1_BRIDGE_WORKER`: the calls made in one tick travel in one request
 * (25 at most per request) and run inside workerd, so a test's hundreds of concurrent statements
 * cost a few round trips, not one each as through miniflare's binding proxy.
 */
export function bridgedD1(mf: Miniflare) {
  const pending: Array<{ op: D1Op; resolve(value: unknown): void; reject(error: Error): void }> = []
  const flush = async () => {
    // Small requests, so the first answers come back while later ones still run.
    const sent = pending.splice(0, 25)
    if (pending.length > 0) setImmediate(flush)
    try {
      const response = await mf.dispatchFetch('http://d1.bridge/', {
        method: 'POST',
        body: JSON.stringify(sent.map((p) => p.op)),
      })
      const answers = (await response.json()) as Array<{ ok: boolean; value?: unknown; message?: string }>
      sent.forEach((p, i) => {
        const answer = answers[i]!
        if (answer.ok) p.resolve(answer.value)
        else p.reject(new Error(answer.message))
      })
    } catch (error) {
      for (const p of sent) p.reject(error as Error)
    }
  }
  const send = <T>(op: D1Op) =>
    new Promise<T>((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush)
      pending.push({ op, resolve: resolve as (value: unknown) => void, reject })
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
  }
}

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

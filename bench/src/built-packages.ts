// The benchmarks measure the packages' built `dist/`, as an application runs them. The workspace's
// .npmrc gives every `pnpm` run `NODE_OPTIONS=--conditions=@sessionbridge/source`, which resolves
// the packages to their TypeScript sources, compiled on the fly by tsx: until stop 47 `pnpm bench`
// measured those (Fastify's memory increment, 89.3k instructions a request against 81.0k from
// `dist/`; the limit rows, which run none of our code, alike in both).
import { spawnSync } from 'node:child_process'

const SOURCE_CONDITION = /(?:^|\s)(?:--conditions[= ]|-C ?)@sessionbridge\/source(?=\s|$)/g

/** `NODE_OPTIONS` without the source condition; `undefined` when nothing else is left. */
export function withoutSourceCondition(options: string | undefined): string | undefined {
  const rest = options?.replace(SOURCE_CONDITION, ' ').trim()
  return rest ? rest : undefined
}

/** Whether this process resolves the packages to their TypeScript sources. */
function resolvesSources(): boolean {
  return !import.meta.resolve('@sessionbridge/core').includes('/dist/')
}

/** Throws, naming the tool, when this process would measure the sources instead of `dist/`. */
export function requireBuiltPackages(tool: string): void {
  if (resolvesSources())
    throw new Error(
      `bench/${tool}: the packages resolve to their sources (--conditions=@sessionbridge/source, set by pnpm through .npmrc); run it with node or npx, after pnpm build`,
    )
}

/**
 * For an entry point that `pnpm` runs (`pnpm bench`): when this process resolves the sources,
 * runs the same script again without the condition, and exits with its status. Its children
 * inherit that environment, so every server and benchmark file resolves `dist/` too.
 */
export function rerunOnBuiltPackages(): void {
  if (!resolvesSources()) return
  const env = { ...process.env }
  const options = withoutSourceCondition(env.NODE_OPTIONS)
  if (options === undefined) delete env.NODE_OPTIONS
  else env.NODE_OPTIONS = options
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env,
  })
  process.exit(run.status ?? 1)
}

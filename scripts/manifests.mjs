// The publishable-manifest scheme, as code. Every non-private package under packages/ must have a
// package.json that is right as it stands, for any packing tool: `exports` into dist/ (types +
// import + default) with the workspace-only `@sessionbridge/source` condition first, `files`,
// `sideEffects`, `engines`, `repository`, `homepage`, `keywords`, MIT, `workspace:^` ranges for
// sibling packages. `node scripts/manifests.mjs` checks; `--fix` rewrites the manifests in place.
// A new subpath only needs `"./name": "./src/name.ts"` in `exports`; `--fix` expands it.
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const SOURCE_CONDITION = '@sessionbridge/source'
export const REPOSITORY = 'https://github.com/sessionbridge/sessionbridge'
const ENGINES = { node: '>=20.19' }
const BASE_KEYWORDS = ['sessionbridge', 'session', 'sessions']
const KEYWORDS = {
  cli: ['cli', 'session-store', 'migrate', 'django'],
  core: ['cookie', 'authentication', 'login', 'django', 'web-crypto', 'edge'],
  django: ['django', 'django-session', 'auth_user', 'password-hasher', 'pbkdf2', 'argon2', 'bcrypt'],
  express: ['express', 'express-middleware', 'authentication', 'django'],
  fastify: ['fastify', 'fastify-plugin', 'authentication', 'django'],
  hono: ['hono', 'hono-middleware', 'authentication', 'edge', 'cloudflare-workers', 'django'],
  koa: ['koa', 'koa-middleware', 'authentication', 'django'],
  memcached: ['memcached', 'session-store', 'meta-protocol'],
  redis: ['redis', 'ioredis', 'session-store'],
  'rest-sessions': ['rest-sessions', 'session-store', 'undici'],
  'rest-sessions-server': ['rest-sessions', 'session-server', 'fastify', 'redis'],
  sql: ['session-store', 'postgresql', 'mysql', 'mariadb', 'sqlite', 'django_session'],
}
/** Order of the top-level fields in a written manifest; unknown fields keep their place after these. */
const ORDER = [
  'name',
  'version',
  'description',
  'keywords',
  'license',
  'author',
  'homepage',
  'bugs',
  'repository',
  'type',
  'engines',
  'sideEffects',
  'main',
  'types',
  'exports',
  'bin',
  'files',
  'scripts',
  'dependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'devDependencies',
  'publishConfig',
]

const root = new URL('..', import.meta.url).pathname

/** The public packages: every packages/<dir> whose package.json is not private. */
export function publicPackages() {
  return readdirSync(join(root, 'packages'))
    .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
    .map((dir) => {
      const path = join(root, 'packages', dir, 'package.json')
      return { dir, path, manifest: JSON.parse(readFileSync(path, 'utf8')) }
    })
    .filter(({ manifest }) => !manifest.private)
}

/** `./src/a/b.ts` -> the conditions object pointing into dist/. */
function exportEntry(source) {
  const stem = source.replace(/^\.\/src\//, './dist/').replace(/\.ts$/, '')
  return { [SOURCE_CONDITION]: source, types: `${stem}.d.ts`, import: `${stem}.js`, default: `${stem}.js` }
}

function sourceOf(key, value) {
  if (typeof value === 'string') return value
  const source = value?.[SOURCE_CONDITION]
  if (typeof source !== 'string') throw new Error(`exports["${key}"] has no "${SOURCE_CONDITION}" path`)
  return source
}

/** The manifest as the scheme wants it. */
export function expectedManifest(dir, manifest) {
  const out = { ...manifest }
  const exports = {}
  for (const [key, value] of Object.entries(manifest.exports ?? { '.': './src/index.ts' })) {
    const source = sourceOf(key, value)
    if (!/^\.\/src\/.+\.ts$/.test(source)) throw new Error(`${dir}: exports["${key}"] must name ./src/*.ts`)
    exports[key] = exportEntry(source)
  }
  out.exports = exports
  out.main = exports['.']?.import
  out.types = exports['.']?.types
  if (!out.main) delete out.main
  if (!out.types) delete out.types
  out.type = 'module'
  out.license = 'MIT'
  out.engines = { ...ENGINES, ...manifest.engines, node: ENGINES.node }
  out.sideEffects = manifest.sideEffects ?? false
  out.homepage = `${REPOSITORY}/tree/main/packages/${dir}#readme`
  out.bugs = { url: `${REPOSITORY}/issues` }
  out.repository = { type: 'git', url: `git+${REPOSITORY}.git`, directory: `packages/${dir}` }
  out.keywords = [...new Set([...BASE_KEYWORDS, ...(KEYWORDS[dir] ?? []), ...(manifest.keywords ?? [])])]
  const files = ['dist', 'src', '!src/**/*.test.ts', '!src/**/*.test-d.ts', 'CHANGELOG.md']
  const binDirs = Object.values(manifest.bin ?? {}).map((p) => p.replace(/^\.\//, '').split('/')[0])
  files.splice(2, 0, ...new Set(binDirs.filter((d) => !files.includes(d))))
  out.files = files
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    if (!manifest[field]) continue
    out[field] = Object.fromEntries(
      Object.entries(manifest[field]).map(([name, range]) => [
        name,
        name.startsWith('@sessionbridge/') ? 'workspace:^' : range,
      ]),
    )
  }
  const { exports: _dropped, ...publishConfig } = manifest.publishConfig ?? {}
  out.publishConfig = { ...publishConfig, access: 'public' }
  const ordered = {}
  for (const key of ORDER) if (key in out) ordered[key] = out[key]
  for (const key of Object.keys(out)) if (!(key in ordered)) ordered[key] = out[key]
  return ordered
}

/** `--fix` starts the files every package ships: the root LICENSE, an empty CHANGELOG. */
function addMissingFiles(dir, manifest) {
  const pkg = join(root, 'packages', dir)
  if (!existsSync(join(pkg, 'LICENSE'))) copyFileSync(join(root, 'LICENSE'), join(pkg, 'LICENSE'))
  if (!existsSync(join(pkg, 'CHANGELOG.md'))) writeFileSync(join(pkg, 'CHANGELOG.md'), `# ${manifest.name}\n`)
}

/** Problems the scheme cannot fix by rewriting: they need a person. */
function manualProblems(dir, manifest) {
  const problems = []
  const pkg = join(root, 'packages', dir)
  for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (!existsSync(join(pkg, file))) problems.push(`${dir}: ${file} is missing`)
  }
  for (const [key, value] of Object.entries(manifest.exports ?? {})) {
    const source = typeof value === 'string' ? value : value?.[SOURCE_CONDITION]
    if (typeof source === 'string' && !existsSync(join(pkg, source))) {
      problems.push(`${dir}: exports["${key}"] source ${source} does not exist`)
    }
  }
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) {
      if (name === '@sessionbridge/test-services') problems.push(`${dir}: ${name} belongs in devDependencies`)
    }
  }
  return problems
}

function main() {
  const fix = process.argv.includes('--fix')
  const problems = []
  for (const { dir, path, manifest } of publicPackages()) {
    const expected = expectedManifest(dir, manifest)
    const text = `${JSON.stringify(expected, null, 2)}\n`
    if (text !== readFileSync(path, 'utf8')) {
      if (fix) writeFileSync(path, text)
      else
        problems.push(
          `${dir}: package.json does not follow the scheme (run node scripts/manifests.mjs --fix)`,
        )
    }
    if (fix) addMissingFiles(dir, expected)
    problems.push(...manualProblems(dir, expected))
  }
  if (problems.length) {
    console.error(problems.join('\n'))
    process.exit(1)
  }
  console.log(fix ? 'manifests: written' : 'manifests: ok')
}

if (import.meta.url === `file://${process.argv[1]}`) main()

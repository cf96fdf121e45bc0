// The release path: one command that builds, checks and packs every public package, and never
// publishes. `pnpm release` leaves in .release/ exactly the tarballs that passed every check, with
// their SHA-256 sums; publishing is `npm publish <tarball>` of those files (see CONTRIBUTING.md).
//   node scripts/release.mjs            clean build, manifest scheme, pack, inspect, publint, attw
//   node scripts/release.mjs --readme   the same, then writes the sizes into the root README table
//   node scripts/release.mjs --build-only   only the clean build (CI builds before the tests start: a
//                                           dist/ written while they run could be read half-done)
//   node scripts/release.mjs --no-build     everything but the build: packs what dist/ holds
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { publicPackages, SOURCE_CONDITION } from './manifests.mjs'

const root = new URL('..', import.meta.url).pathname
const out = join(root, '.release')
const bin = (name) => join(root, 'node_modules', '.bin', name)

/** pnpm as the caller ran it (pnpm release), else the pinned version through npx. */
function pnpm(args, options) {
  const execPath = process.env.npm_execpath
  const [command, prefix] =
    execPath && /pnpm/.test(execPath)
      ? [process.execPath, [execPath]]
      : [
          'npx',
          ['-y', `pnpm@${JSON.parse(readFileSync(join(root, 'package.json'))).packageManager.split('@')[1]}`],
        ]
  return execFileSync(command, [...prefix, ...args], { encoding: 'utf8', ...options })
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { cwd: root, encoding: 'utf8', stdio: 'pipe', ...options })
}

function step(name) {
  console.log(`\n== ${name}`)
}

function build(packages) {
  const references = readFileSync(join(root, 'tsconfig.build.json'), 'utf8')
  const missing = packages.filter(({ dir }) => !references.includes(`packages/${dir}/tsconfig.build.json`))
  if (missing.length) throw new Error(`tsconfig.build.json does not reference: ${missing.map((p) => p.dir)}`)
  for (const { dir } of packages) {
    for (const name of readdirSync(join(root, 'packages', dir))) {
      if (name === 'dist' || name.endsWith('.tsbuildinfo'))
        rmSync(join(root, 'packages', dir, name), { recursive: true })
    }
  }
  run(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.build.json'],
    {
      stdio: 'inherit',
    },
  )
}

/** Every path an `exports` value can resolve to, whatever the conditions. */
function targets(value) {
  if (typeof value === 'string') return [value]
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets)
  return []
}

/** What a stranger's install would see, checked file by file. */
function inspect(dir, unpacked) {
  const problems = []
  const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'))
  const text = JSON.stringify(manifest)
  if (text.includes('workspace:')) problems.push('a workspace: range survived packing')
  if (manifest.publishConfig?.exports) problems.push('publishConfig.exports is set (pnpm-only rewrite)')
  for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
    if (!existsSync(join(unpacked, file))) problems.push(`${file} is missing`)
  }
  const paths = [
    ...Object.values(manifest.exports ?? {}).flatMap(targets),
    ...Object.values(manifest.bin ?? {}),
    manifest.main,
    manifest.types,
  ].filter(Boolean)
  for (const path of paths)
    if (!existsSync(join(unpacked, path))) problems.push(`${path} is not in the tarball`)
  for (const [key, value] of Object.entries(manifest.exports ?? {})) {
    const keys = Object.keys(value)
    if (keys[0] !== SOURCE_CONDITION || !keys.includes('types') || !keys.includes('import')) {
      problems.push(`exports["${key}"] lacks the ${SOURCE_CONDITION}/types/import conditions`)
    }
  }
  const files = listFiles(unpacked)
  const tests = files.filter((f) => /\.test(-d)?\.[cm]?[jt]s$/.test(f) || f.startsWith('test/'))
  if (tests.length) problems.push(`test files packed: ${tests.join(', ')}`)
  return { problems: problems.map((p) => `${dir}: ${p}`), files }
}

function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? listFiles(path, base) : [relative(base, path)]
  })
}

/** publint and attw on the tarball itself: what is checked is what gets published. */
function lint(dir, tarball) {
  const problems = []
  try {
    const report = run(bin('publint'), ['run', tarball, '--strict'])
    console.log(`publint ${dir}: ${report.trim().split('\n').at(-1)}`)
  } catch (error) {
    problems.push(`${dir}: publint\n${error.stdout}${error.stderr}`)
  }
  try {
    // ESM-only packages (Node 20.19+ require()s them natively; the consumer test proves it), so the
    // CommonJS-resolution view of TypeScript's node16 mode does not apply.
    run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'table-flipped', '--no-color'])
    console.log(`attw    ${dir}: no problems`)
  } catch (error) {
    problems.push(`${dir}: @arethetypeswrong/cli\n${error.stdout}${error.stderr}`)
  }
  return problems
}

function formatSize(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`
}

/** Rewrites the size cells of the root README's package table (the rows linking to packages/<dir>). */
export function writeReadme(sizes) {
  const path = join(root, 'README.md')
  const lines = readFileSync(path, 'utf8').split('\n')
  const next = lines.map((line) => {
    const cells = line.startsWith('|') ? line.slice(1, -1).split(' | ') : []
    const name = /^\s*\[`(@sessionbridge\/[^`]+)`\]\(packages\//.exec(cells[0] ?? '')?.[1]
    const size = name && sizes.find((s) => s.name === name)
    if (!size) return line
    cells.splice(-2, 2, formatSize(size.packed), formatSize(size.unpacked))
    return `| ${cells.map((cell) => cell.trim()).join(' | ')} |`
  })
  writeFileSync(path, next.join('\n'))
  run(bin('biome'), ['format', '--write', 'README.md'])
}

function main() {
  const started = performance.now()
  const packages = publicPackages()
  step('manifests')
  run(process.execPath, [join(root, 'scripts', 'manifests.mjs')], { stdio: 'inherit' })
  if (!process.argv.includes('--no-build')) {
    step('build (clean)')
    build(packages)
    if (process.argv.includes('--build-only')) return
  }
  step('pack')
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out)
  const problems = []
  const sizes = []
  const sums = []
  const scratch = mkdtempSync(join(tmpdir(), 'sessionbridge-release-'))
  try {
    for (const { dir, manifest } of packages) {
      pnpm(['pack', '--pack-destination', out], { cwd: join(root, 'packages', dir), stdio: 'pipe' })
      const file = `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`
      const tarball = join(out, file)
      const unpacked = join(scratch, dir)
      mkdirSync(unpacked)
      run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1'])
      const inspected = inspect(dir, unpacked)
      problems.push(...inspected.problems)
      const unpackedSize = inspected.files.reduce((sum, f) => sum + statSync(join(unpacked, f)).size, 0)
      sizes.push({ name: manifest.name, file, packed: statSync(tarball).size, unpacked: unpackedSize })
      sums.push(`${createHash('sha256').update(readFileSync(tarball)).digest('hex')}  ${file}`)
      console.log(
        `${file}: ${formatSize(statSync(tarball).size)} packed, ${formatSize(unpackedSize)} unpacked`,
      )
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  step('publint + @arethetypeswrong/cli')
  for (const { file } of sizes) problems.push(...lint(file.replace(/-\d.*$/, ''), join(out, file)))
  if (problems.length) {
    rmSync(out, { recursive: true, force: true })
    console.error(
      `\nrelease: ${problems.length} problem(s); nothing is left to publish\n\n${problems.join('\n\n')}`,
    )
    process.exit(1)
  }
  writeFileSync(join(out, 'SHA256SUMS'), `${sums.join('\n')}\n`)
  writeFileSync(join(out, 'sizes.json'), `${JSON.stringify(sizes, null, 2)}\n`)
  if (process.argv.includes('--readme')) writeReadme(sizes)
  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  console.log(`\nrelease: ${sizes.length} tarballs checked in ${seconds} s, in .release/ (not published).`)
  console.log(
    'publish them, and only them: cd .release && sha256sum -c SHA256SUMS && for t in *.tgz; do npm publish "$t"; done',
  )
}

if (import.meta.url === `file://${process.argv[1]}`) main()

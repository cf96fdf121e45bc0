// Type-checks every workspace project with its own tsconfig.json. One program per project keeps
// each project's module augmentations (framework request types, peers' types in bench/) its own.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'

const roots = ['packages', 'examples']
const projects = [
  ...roots.flatMap((root) => readdirSync(root).map((dir) => join(root, dir))),
  'bench',
  'reliability',
  'test',
].filter((dir) => existsSync(join(dir, 'tsconfig.json')))

const tsc = join('node_modules', 'typescript', 'bin', 'tsc')
const run = (dir) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) => resolve({ dir, code, out }))
  })

const queue = [...projects]
const failures = []
await Promise.all(
  Array.from({ length: Math.max(1, Math.min(cpus().length, 4)) }, async () => {
    for (let dir = queue.shift(); dir; dir = queue.shift()) {
      const { code, out } = await run(dir)
      console.log(`${code === 0 ? 'ok  ' : 'FAIL'} ${dir}`)
      if (code !== 0) failures.push(out)
    }
  }),
)
if (failures.length) {
  console.error(failures.join('\n'))
  process.exit(1)
}

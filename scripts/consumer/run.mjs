// The consumer test: a stranger's install of the packed tarballs, outside the workspace.
// 1. takes the tarballs `node scripts/release.mjs` checked (.release/, verified by SHA256SUMS);
// 2. in a fresh temp folder, `npm install`s them as plain files (no workspace links) with Fastify,
//    Koa, Hono, node-redis and better-sqlite3 from the registry;
// 3. compiles app.ts, strict, skipLibCheck off, with NodeNext and with Bundler resolution;
// 4. runs it and drives its Fastify, Koa and Hono servers over HTTP on the memory, SQLite, Redis
//    and memcached backends (one login seen by all three frameworks);
// 5. runs the plain-JavaScript consumers (ESM and CommonJS).
// Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and memcached (MEMCACHED_SERVER, default
// 127.0.0.1:11211). `--keep` leaves the temp folder for inspection.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = realpathSync(new URL('../..', import.meta.url).pathname)
const here = join(root, 'scripts', 'consumer')
const release = join(root, '.release')
const started = performance.now()
const timings = []

async function step(name, fn) {
  const t0 = performance.now()
  console.log(`\n== ${name}`)
  const result = await fn()
  timings.push(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return result
}

/** The environment of a stranger's shell: nothing inherited from pnpm or the workspace. */
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(npm_|NODE_OPTIONS$|PNPM_|INIT_CWD$|VITEST)/i.test(key)),
)
const sh = (cwd, command, args) => execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: 'pipe' })

function checkedTarballs() {
  const sums = join(release, 'SHA256SUMS')
  if (!existsSync(sums)) throw new Error('no .release/SHA256SUMS: run `node scripts/release.mjs` first')
  return readFileSync(sums, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [sum, file] = line.split(/\s+/)
      const path = join(release, file)
      const actual = createHash('sha256').update(readFileSync(path)).digest('hex')
      if (actual !== sum) throw new Error(`${file} changed after it was checked`)
      return path
    })
}

function workspaceVersion(pkg, from) {
  return JSON.parse(readFileSync(join(root, from, 'node_modules', pkg, 'package.json'), 'utf8')).version
}

function manifest(tarballs) {
  const dependencies = {}
  for (const tarball of tarballs) {
    const name = execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })
    dependencies[JSON.parse(name).name] = `file:${tarball}`
  }
  return {
    name: 'sessionbridge-consumer',
    private: true,
    type: 'module',
    dependencies: {
      ...dependencies,
      '@hono/node-server': '^1.19.0',
      // @types/koa reaches `content-disposition` through @types/content-disposition, but express 5.3
      // (the peer of @sessionbridge/express) brings content-disposition 2+, which ships types of its
      // own without `Options`: hoisted to the top, it breaks @types/koa under skipLibCheck false.
      // Koa's own 1.0 at the top level, as an app mixing Koa and Express has to do today.
      'content-disposition': '~1.0.1',
      'better-sqlite3': workspaceVersion('better-sqlite3', 'packages/sql'),
      fastify: '^5.6.0',
      hono: '^4.6.0',
      koa: '^3.0.0',
      redis: '^5.8.0',
    },
    devDependencies: {
      '@types/better-sqlite3': '^7.6.13',
      '@types/koa': '^3.0.0',
      '@types/node': '^20.19.0',
      typescript: workspaceVersion('typescript', '.'),
      'typescript-5': 'npm:typescript@~5.9.0',
    },
  }
}

/** better-sqlite3's addon: reuse the workspace's build of the same version, else compile it. */
function nativeSqlite(dir) {
  const target = join(dir, 'node_modules', 'better-sqlite3', 'build', 'Release')
  const built = join(root, 'packages', 'sql', 'node_modules', 'better-sqlite3', 'build', 'Release')
  if (existsSync(join(built, 'better_sqlite3.node'))) {
    mkdirSync(target, { recursive: true })
    copyFileSync(join(built, 'better_sqlite3.node'), join(target, 'better_sqlite3.node'))
  } else sh(dir, 'npm', ['rebuild', 'better-sqlite3'])
}

/** Every @sessionbridge package is a real folder from a tarball, installed once. */
function checkInstall(dir) {
  const scope = join(dir, 'node_modules', '@sessionbridge')
  for (const name of readdirSync(scope)) {
    const path = join(scope, name)
    assert.ok(!lstatSync(path).isSymbolicLink(), `${name} is a link`)
    assert.ok(!realpathSync(path).startsWith(root), `${name} resolves into the workspace`)
    assert.ok(
      !existsSync(join(path, 'node_modules', '@sessionbridge')),
      `${name} has a nested @sessionbridge copy`,
    )
  }
  return readdirSync(scope)
}

function tsc(dir, typescript, config, ...flags) {
  try {
    sh(dir, process.execPath, [join(dir, 'node_modules', typescript, 'bin', 'tsc'), '-p', config, ...flags])
  } catch (error) {
    throw new Error(`${typescript} -p ${config}:\n${error.stdout}${error.stderr}`)
  }
}

async function startApp(dir) {
  const child = spawn(process.execPath, ['dist/app.js'], {
    cwd: dir,
    env: { ...env, CONSUMER_RUN: `${process.pid}-${randomBytes(4).toString('hex')}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  let out = ''
  const urls = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app printed no URLs in 60 s: ${out}`)), 60_000)
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (!out.includes('\n')) return
      clearTimeout(timer)
      resolve(JSON.parse(out.split('\n')[0]))
    })
    exited.then((code) => reject(new Error(`the app exited (${code}): ${out}`)))
  })
  return { urls, child, exited }
}

async function call(url, { cookie, method = 'GET', body } = {}) {
  const response = await fetch(url, {
    method,
    headers: { ...(cookie && { cookie }), ...(body && { 'content-type': 'application/json' }) },
    body: body && JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  const setCookie = response.headers.get('set-cookie')?.split(';')[0]
  return { status: response.status, json: await response.json(), setCookie }
}

/** One backend, three frameworks: a login and a counter they all share. */
async function drive(urls, backend) {
  const [fastify, koa, hono] = ['fastify', 'koa', 'hono'].map((f) => urls[`${f}/${backend}`])
  const denied = await call(`${fastify}/login`, {
    method: 'POST',
    body: { username: 'alice', password: 'wrong' },
  })
  assert.equal(denied.status, 401, `${backend}: a wrong password`)
  const login = await call(`${fastify}/login`, {
    method: 'POST',
    body: { username: 'alice', password: 'alice-password' },
  })
  assert.equal(login.status, 200, `${backend}: login`)
  assert.match(login.setCookie ?? '', /^sessionid=./, `${backend}: login sets the session cookie`)
  const cookie = login.setCookie
  for (const [n, url] of [fastify, koa, hono].entries()) {
    assert.deepEqual(
      (await call(`${url}/visits`, { cookie })).json,
      { visits: n + 1 },
      `${backend}: ${url}/visits`,
    )
  }
  for (const url of [fastify, koa, hono]) {
    assert.deepEqual((await call(`${url}/me`, { cookie })).json, { user: 'alice' }, `${backend}: ${url}/me`)
  }
  assert.equal((await call(`${koa}/logout`, { method: 'POST', cookie })).status, 200)
  for (const url of [fastify, hono]) {
    assert.deepEqual((await call(`${url}/me`, { cookie })).json, { user: null }, `${backend}: logged out`)
  }
  console.log(`${backend}: login, shared counter and logout across Fastify, Koa and Hono: ok`)
}

const dir = mkdtempSync(join(tmpdir(), 'sessionbridge-consumer-'))
assert.ok(!dir.startsWith(root), 'the consumer folder must be outside the workspace')
try {
  const tarballs = await step('tarballs', () => checkedTarballs())
  await step('npm install (tarballs, no workspace)', () => {
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest(tarballs), null, 2)}\n`)
    sh(dir, 'npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'])
    nativeSqlite(dir)
    console.log(`installed: ${checkInstall(dir).join(', ')}`)
  })
  await step('tsc: strict, skipLibCheck false, NodeNext and Bundler (TypeScript 6; 5.9 NodeNext)', () => {
    for (const file of [
      'app.ts',
      'tsconfig.nodenext.json',
      'tsconfig.bundler.json',
      'plain.mjs',
      'plain.cjs',
    ]) {
      cpSync(join(here, file), join(dir, file))
    }
    // The older TypeScript still in wide use, on the stricter resolution (no emit: 6 emits below).
    tsc(dir, 'typescript-5', 'tsconfig.nodenext.json', '--noEmit')
    tsc(dir, 'typescript', 'tsconfig.bundler.json')
    tsc(dir, 'typescript', 'tsconfig.nodenext.json')
  })
  await step('run the app; drive it over HTTP', async () => {
    const app = await startApp(dir)
    try {
      for (const backend of ['memory', 'sqlite', 'redis', 'memcached']) await drive(app.urls, backend)
    } finally {
      app.child.kill('SIGTERM')
    }
    assert.equal(await app.exited, 0, 'the app exits cleanly on SIGTERM')
  })
  await step('plain JavaScript consumers', () => {
    process.stdout.write(sh(dir, process.execPath, ['plain.mjs']))
    process.stdout.write(sh(dir, process.execPath, ['--no-warnings', 'plain.cjs']))
  })
  console.log(`\n${timings.join('\n')}`)
  console.log(`consumer test: ok in ${((performance.now() - started) / 1000).toFixed(0)} s`)
} finally {
  if (process.argv.includes('--keep')) console.log(`kept ${dir}`)
  else rmSync(dir, { recursive: true, force: true })
}

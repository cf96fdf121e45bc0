import { spawn } from 'node:child_process'
import { connect } from 'node:net'

/** The real services the suites talk to. */
export type ServiceName = 'postgres' | 'mariadb' | 'redis' | 'memcached' | 'django'

/**
 * Where each service is: an environment variable, with a default that matches the machines
 * (PostgreSQL with trust auth, MariaDB root without password, Redis, memcached on loopback).
 */
export const SERVICE_URLS: Record<Exclude<ServiceName, 'django'>, string> = {
  postgres: process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  mariadb: process.env.MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/mysql',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  memcached: process.env.MEMCACHED_SERVERS ?? '127.0.0.1:11211',
}

/** Django is the Debian interpreter with Debian's python3-django. */
export const DJANGO_PYTHON = process.env.DJANGO_PYTHON ?? '/usr/bin/python3'

/** In CI a missing service is a failure; locally it is a loud skip. */
export const IN_CI = Boolean(process.env.CI) && process.env.CI !== 'false'

function probeTcp(hostport: string, timeoutMs = 1500): Promise<boolean> {
  const url = hostport.includes('://') ? new URL(hostport) : new URL(`tcp://${hostport}`)
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

function probeDjango(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(DJANGO_PYTHON, ['-c', 'import django'], { stdio: 'ignore' })
    child.once('error', () => resolve(false))
    child.once('exit', (code) => resolve(code === 0))
  })
}

const cache = new Map<ServiceName, Promise<boolean>>()

/**
 * Whether `name` answers. Use with `describe.skipIf(!(await serviceAvailable('redis')))`.
 * In CI an absent service throws, so no service suite can be skipped there; locally the skip is
 * announced on stderr with the reason.
 */
export async function serviceAvailable(name: ServiceName): Promise<boolean> {
  let probe = cache.get(name)
  if (!probe) {
    probe = name === 'django' ? probeDjango() : probeTcp(firstServer(SERVICE_URLS[name]))
    cache.set(name, probe)
  }
  const up = await probe
  if (!up) {
    const where = name === 'django' ? `${DJANGO_PYTHON} -c "import django"` : SERVICE_URLS[name]
    const message = `[sessionbridge/test-services] ${name} is not reachable (${where})`
    if (IN_CI) throw new Error(`${message}: a missing service fails the run in CI`)
    console.warn(`\n*** SKIPPING ${name} suites: ${message}. Install/start it, or see .ci/run. ***\n`)
  }
  return up
}

function firstServer(list: string): string {
  return list.split(',')[0]!.trim()
}

/**
 * A name no other run uses at the same time: `<prefix>_<pid>_<random>` (lower case, digits and
 * `_`, so it is a valid database, table or key prefix everywhere). Suites share the servers with
 * other runs on the same machine: every database, table and key prefix they create gets one, and
 * is dropped at the end.
 */
export function uniqueName(prefix: string): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(36).padStart(2, '0'))
    .join('')
    .slice(0, 6)
  return `${prefix}_${process.pid}_${random}`
}

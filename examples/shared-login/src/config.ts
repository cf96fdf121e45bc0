import { fileURLToPath } from 'node:url'
import { SessionConfigError } from '@sessionbridge/core'
import type { DjangoVersion } from '@sessionbridge/django'

/** The session stores the example can run on (`SESSION_BACKEND`). */
export const BACKENDS = ['sql', 'memcached', 'redis', 'rest-sessions', 'memory'] as const
export type BackendKind = (typeof BACKENDS)[number]

/** The apps and the port each listens on by default. */
export const DEFAULT_PORTS = { fastify: 3001, koa: 3002, hono: 3003, django: 3004, express: 3005 } as const
export type AppName = keyof typeof DEFAULT_PORTS

/** The Django release lines the example runs with (`DJANGO_VERSION`): Debian's 3.2, and 4.2/5.2 from scripts/django-lts.sh. */
export const DJANGO_LINES = ['3.2', '4.2', '5.2'] as const satisfies readonly DjangoVersion[]

/** Used when `SECRET_KEY` is unset: fine on a laptop, announced as a warning at start. */
export const DEV_SECRET_KEY = 'dev-only-insecure-secret-key-change-me'

/** The embedded default database: one SQLite file next to the example, created when absent. */
export const DEFAULT_DATABASE_PATH = fileURLToPath(new URL('../shared-login.sqlite3', import.meta.url))

/** Everything the apps read from the environment, resolved once. */
export interface ExampleConfig {
  backend: BackendKind
  /** `sqlite:path`, `postgres://...` or `mysql://...`: where `auth_user` (and, for `sql`, the sessions) live. */
  databaseUrl: string
  /** The database is the embedded default (created and seeded when absent). */
  embeddedDatabase: boolean
  memcachedServers: string[]
  redisUrl: string
  /** `KEY_PREFIX`: the start of every Redis and memcached key the example writes. */
  keyPrefix: string
  /** rest-sessions service URL and application name. */
  sessionUrl: string | null
  sessionApp: string
  secretKey: string
  /** `SECRET_KEY_FALLBACKS` (comma-separated; Django 4.1+): older keys that still verify. */
  secretKeyFallbacks: string[]
  /** `SECRET_KEY` was not set: the dev default is in use. */
  secretKeyIsDefault: boolean
  cookieName: string
  /** The Django beside the Node apps (`DJANGO_VERSION`): what Node writes follows it. */
  djangoVersion: (typeof DJANGO_LINES)[number]
  /** `SESSION_COOKIE_SECURE`: always mark the cookie `Secure` (else: when the request is HTTPS). */
  cookieSecure: boolean
  /** `TRUST_PROXY`: believe `X-Forwarded-Proto` (set it only behind a proxy that overwrites it). */
  trustProxy: boolean
  /** `ALLOWED_HOSTS`: the `Host` values Django answers (comma-separated, Django's syntax). */
  allowedHosts: string[]
  host: string
  /** 0 means "any free port" (tests). */
  ports: Record<AppName, number>
}

const CONFIG_PKG = 'example-shared-login'

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new SessionConfigError(CONFIG_PKG, name, '%s must be a port number (0-65535)')
  }
  return value
}

function keyPrefix(env: NodeJS.ProcessEnv): string {
  const prefix = env.KEY_PREFIX || 'shared-login:'
  if (!/^[\x21-\x7e]{1,100}$/.test(prefix)) {
    throw new SessionConfigError(
      CONFIG_PKG,
      'KEY_PREFIX',
      '%s must be 1-100 printable characters without spaces',
    )
  }
  return prefix
}

/** Django's truthy spellings, and the empty/unset default. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase()
  if (['', '0', 'false', 'no', 'off'].includes(raw)) return false
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true
  throw new SessionConfigError(CONFIG_PKG, name, '%s must be true or false (1/0, yes/no, on/off)')
}

/** The hosts the example serves by default: loopback only, as it binds to 127.0.0.1. */
export const DEFAULT_ALLOWED_HOSTS = ['127.0.0.1', 'localhost', '[::1]'] as const

/** Reads the environment (`SESSION_BACKEND`, `DATABASE_URL`, ...). Throws `SessionConfigError` naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const backend = (env.SESSION_BACKEND || 'sql') as BackendKind
  if (!BACKENDS.includes(backend)) {
    throw new SessionConfigError(CONFIG_PKG, 'SESSION_BACKEND', `%s must be one of ${BACKENDS.join(', ')}`)
  }
  const databaseUrl = env.DATABASE_URL || `sqlite:${DEFAULT_DATABASE_PATH}`
  if (!/^(sqlite:|postgres(ql)?:\/\/|mysql:\/\/)/.test(databaseUrl)) {
    throw new SessionConfigError(
      CONFIG_PKG,
      'DATABASE_URL',
      '%s must start with sqlite:, postgres:// or mysql://',
    )
  }
  if (backend === 'rest-sessions' && !env.SESSION_URL) {
    throw new SessionConfigError(
      CONFIG_PKG,
      'SESSION_URL',
      '%s is required with SESSION_BACKEND=rest-sessions',
    )
  }
  const djangoVersion = (env.DJANGO_VERSION || '3.2') as ExampleConfig['djangoVersion']
  if (!DJANGO_LINES.includes(djangoVersion)) {
    throw new SessionConfigError(CONFIG_PKG, 'DJANGO_VERSION', `%s must be one of ${DJANGO_LINES.join(', ')}`)
  }
  if (env.SECRET_KEY_FALLBACKS && djangoVersion === '3.2') {
    throw new SessionConfigError(CONFIG_PKG, 'SECRET_KEY_FALLBACKS', '%s needs DJANGO_VERSION 4.2 or 5.2')
  }
  const cookieName = env.SESSION_COOKIE_NAME || 'sessionid'
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    throw new SessionConfigError(CONFIG_PKG, 'SESSION_COOKIE_NAME', '%s is not a valid cookie name')
  }
  return Object.freeze({
    backend,
    databaseUrl,
    embeddedDatabase: !env.DATABASE_URL,
    memcachedServers: (env.MEMCACHED_SERVERS || '127.0.0.1:11211')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    keyPrefix: keyPrefix(env),
    sessionUrl: env.SESSION_URL || null,
    sessionApp: env.SESSION_APP || 'shared-login',
    secretKey: env.SECRET_KEY || DEV_SECRET_KEY,
    secretKeyFallbacks: (env.SECRET_KEY_FALLBACKS || '').split(',').filter(Boolean),
    secretKeyIsDefault: !env.SECRET_KEY,
    cookieName,
    djangoVersion,
    cookieSecure: flag(env, 'SESSION_COOKIE_SECURE'),
    trustProxy: flag(env, 'TRUST_PROXY'),
    allowedHosts: env.ALLOWED_HOSTS
      ? env.ALLOWED_HOSTS.split(',')
          .map((h) => h.trim())
          .filter(Boolean)
      : [...DEFAULT_ALLOWED_HOSTS],
    host: '127.0.0.1',
    ports: Object.freeze({
      fastify: port(env, 'FASTIFY_PORT', DEFAULT_PORTS.fastify),
      koa: port(env, 'KOA_PORT', DEFAULT_PORTS.koa),
      hono: port(env, 'HONO_PORT', DEFAULT_PORTS.hono),
      django: port(env, 'DJANGO_PORT', DEFAULT_PORTS.django),
      express: port(env, 'EXPRESS_PORT', DEFAULT_PORTS.express),
    }),
  })
}

/** `sqlite:path` -> path (also `sqlite://path` and `sqlite:///abs/path`). */
export function sqlitePath(databaseUrl: string): string | null {
  if (!databaseUrl.startsWith('sqlite:')) return null
  const rest = databaseUrl.slice('sqlite:'.length)
  return rest.startsWith('//') ? rest.slice(2) : rest
}

import { SessionConfigError } from '@sessionbridge/core'

/** The stores the command can open, named as the examples' `SESSION_BACKEND` names them. */
export const STORES = ['sql', 'redis', 'memcached', 'rest-sessions'] as const
export type StoreKind = (typeof STORES)[number]

/** Flags given on the command line; each one wins over its environment variable. */
export interface CliFlags {
  backend?: string
  databaseUrl?: string
  layout?: string
  table?: string
  userTable?: string
  redisUrl?: string
  memcachedServers?: string
  sessionUrl?: string
  sessionApp?: string
  prefix?: string
  secretKey?: string
}

/** Where the sessions are, resolved once from flags and the environment. */
export interface CliConfig {
  readonly backend: StoreKind
  /** `sqlite:path`, `postgres://...` or `mysql://...` (`DATABASE_URL`). */
  readonly databaseUrl: string | null
  /** SQL table layout (`SESSION_LAYOUT`). @default 'django' when `SECRET_KEY` is set, else 'native' */
  readonly layout: 'native' | 'django'
  readonly table: string | undefined
  /** The Django layout's user table (`SESSION_USER_TABLE`), for `revoke` by index; `null` = walk the table. */
  readonly userTable: string | null
  readonly redisUrl: string
  readonly memcachedServers: string[]
  readonly sessionUrl: string | null
  readonly sessionApp: string
  /** Redis / memcached key prefix (`SESSION_PREFIX`); `undefined` = the backend's default. */
  readonly prefix: string | undefined
  /** Django's `SECRET_KEY`: decodes the Django layout's `session_data` and Django-coded Redis values. */
  readonly secretKey: string | null
}

const PKG = 'cli'
const pick = (flag: string | undefined, env: string | undefined): string | undefined =>
  flag !== undefined && flag !== '' ? flag : env !== undefined && env !== '' ? env : undefined

/**
 * Resolves the configuration: flags first, then the same environment variables the examples read
 * (`SESSION_BACKEND`, `DATABASE_URL`, `REDIS_URL`, `MEMCACHED_SERVERS`, `SESSION_URL`,
 * `SESSION_APP`, `SECRET_KEY`, plus `SESSION_LAYOUT`, `SESSION_TABLE`, `SESSION_USER_TABLE` and
 * `SESSION_PREFIX`).
 * Throws `SessionConfigError` naming the flag or variable.
 */
export function resolveConfig(flags: CliFlags, env: Record<string, string | undefined>): CliConfig {
  const backend = pick(flags.backend, env.SESSION_BACKEND)
  if (backend === undefined) {
    throw new SessionConfigError(
      PKG,
      '--backend',
      `missing %s (or SESSION_BACKEND): one of ${STORES.join(', ')}`,
    )
  }
  if (!(STORES as readonly string[]).includes(backend)) {
    throw new SessionConfigError(
      PKG,
      '--backend',
      `%s must be one of ${STORES.join(', ')} (got "${backend}")`,
    )
  }
  const secretKey = pick(flags.secretKey, env.SECRET_KEY) ?? null
  const layout = pick(flags.layout, env.SESSION_LAYOUT) ?? (secretKey ? 'django' : 'native')
  if (layout !== 'native' && layout !== 'django') {
    throw new SessionConfigError(PKG, '--layout', '%s must be "native" or "django"')
  }
  const databaseUrl = pick(flags.databaseUrl, env.DATABASE_URL) ?? null
  if (backend === 'sql') {
    if (databaseUrl === null)
      throw new SessionConfigError(PKG, '--database-url', 'missing %s (or DATABASE_URL)')
    if (!/^(sqlite:|postgres(ql)?:\/\/|mysql:\/\/)/.test(databaseUrl)) {
      throw new SessionConfigError(
        PKG,
        '--database-url',
        '%s must start with sqlite:, postgres:// or mysql://',
      )
    }
    if (layout === 'django' && secretKey === null) {
      throw new SessionConfigError(
        PKG,
        '--secret-key',
        'missing %s (or SECRET_KEY): the django layout is signed with it',
      )
    }
  }
  const userTable = pick(flags.userTable, env.SESSION_USER_TABLE) ?? null
  if (userTable !== null && (backend !== 'sql' || layout !== 'django')) {
    throw new SessionConfigError(
      PKG,
      '--user-table',
      "%s (or SESSION_USER_TABLE) is for the sql backend's django layout: the others index users themselves",
    )
  }
  const sessionUrl = pick(flags.sessionUrl, env.SESSION_URL) ?? null
  if (backend === 'rest-sessions' && sessionUrl === null) {
    throw new SessionConfigError(PKG, '--session-url', 'missing %s (or SESSION_URL)')
  }
  return Object.freeze({
    backend: backend as StoreKind,
    databaseUrl,
    layout,
    table: pick(flags.table, env.SESSION_TABLE),
    userTable,
    redisUrl: pick(flags.redisUrl, env.REDIS_URL) ?? 'redis://127.0.0.1:6379',
    memcachedServers: (pick(flags.memcachedServers, env.MEMCACHED_SERVERS) ?? '127.0.0.1:11211')
      .split(',')
      .map((server) => server.trim())
      .filter(Boolean),
    sessionUrl,
    sessionApp: pick(flags.sessionApp, env.SESSION_APP) ?? 'shared-login',
    prefix: pick(flags.prefix, env.SESSION_PREFIX),
    secretKey,
  })
}

/** The configuration as it may be printed: no credentials in URLs, no secret. */
export function describeConfig(config: CliConfig): string {
  const hide = (url: string) => url.replace(/\/\/[^@/]*@/, '//')
  switch (config.backend) {
    case 'sql':
      return `sql ${config.layout} (${hide(config.databaseUrl ?? '')})`
    case 'redis':
      return `redis (${hide(config.redisUrl)})`
    case 'memcached':
      return `memcached (${config.memcachedServers.join(',')})`
    case 'rest-sessions':
      return `rest-sessions (${hide(config.sessionUrl ?? '')}, app ${config.sessionApp})`
  }
}

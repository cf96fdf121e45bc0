import {
  defaultIdFormat,
  djangoIdFormat,
  type IdFormat,
  type SessionCodec,
  SessionConfigError,
  type SessionLogger,
} from '@sessionbridge/core'
import { missingOption, wallClock } from '@sessionbridge/core/adapter'
import type { SqlClient } from './client.ts'
import { checkDialect, PKG, quoteTable } from './dialect.ts'
import { DEFAULT_TABLES, type SqlLayout } from './schema.ts'

/** Options of `sqlBackend`. */
export interface SqlBackendOptions {
  /** The database, through an adapter: `pgClient`, `postgresJsClient`, `mysqlClient`, `sqliteClient`, `pgliteClient`. */
  client: SqlClient
  /** `native` (JSON data, user index) or `django` (Django's `django_session`, shared with Django). */
  layout: SqlLayout
  /** Table name, `name` or `schema.name`. @default 'sessionbridge_session' (native), 'django_session' (django) */
  table?: string
  /**
   * How the Django layout encodes `session_data`: pass `djangoCodec(...)` from
   * `@sessionbridge/django` so Django reads the rows. Required for `django`; not used by `native`.
   */
  codec?: SessionCodec
  /** Session id format. @default the codec's (django), else djangoIdFormat (32 x [a-z0-9]) */
  idFormat?: IdFormat
  /**
   * Django layout only: a side table (`session_key`, `user_id`; create it with
   * `migrateUserTable()`) that lists each session's user, for `destroyUser` / `listUser` ("log out
   * everywhere"). Sessions Django itself logs in are listed only if Django writes the row too (see
   * the README's receiver); without this option the Django layout declares neither. @default null
   */
  userTable?: string | null
  /** Milliseconds between automatic `clearExpired()` runs; `0` = never (call it yourself, or from cron). @default 0 */
  clearExpiredInterval?: number
  /** Rows one `clearExpired` statement deletes, so a big purge never holds long locks. @default 1000 */
  batchSize?: number
  /**
   * Seconds a native row's stored expiry may trail a save's: a save within this of the expiry last
   * written leaves the column alone, so the database rewrites no index entry for it (as reads move
   * it at most every `touchInterval`). `0` writes it on every save. @default 60
   */
  expiryStep?: number
  /** Largest encoded session stored, in bytes (UTF-8); `null` = leave it to the database. @default 1_048_576 */
  maxDataBytes?: number | null
  /** The data key holding the user id (the Django layout derives `userId` from it). @default '_auth_user_id' */
  userIdKey?: string
  /** Where warnings go (undecodable rows, failed background sweeps). @default console */
  logger?: SessionLogger
  /** Clock, epoch ms. @default wallClock */
  now?: () => number
}

const wholeNumber = (option: string, value: unknown, min: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new SessionConfigError(PKG, option, `%s must be a whole number of at least ${min}`)
  }
  return value
}

function checkClient(options: SqlBackendOptions): SqlClient {
  if (!options || typeof options !== 'object' || !options.client) throw missingOption(PKG, 'client')
  const { client } = options
  if (typeof client.query !== 'function' || typeof client.transaction !== 'function') {
    throw new SessionConfigError(PKG, 'client', '%s must be an SqlClient (query and transaction)')
  }
  return client
}

function checkLayout(options: SqlBackendOptions): { layout: SqlLayout; codec: SessionCodec | null } {
  const layout = options.layout
  if (layout === undefined) throw missingOption(PKG, 'layout')
  if (layout !== 'native' && layout !== 'django')
    throw new SessionConfigError(PKG, 'layout', '%s must be "native" or "django"')
  const codec = options.codec ?? null
  if (layout === 'django' && !codec)
    throw new SessionConfigError(
      PKG,
      'codec',
      `missing %s: the "django" layout needs djangoCodec() from @sessionbridge/django`,
    )
  if (codec && (typeof codec.encode !== 'function' || typeof codec.decode !== 'function')) {
    throw new SessionConfigError(PKG, 'codec', '%s must have encode() and decode()')
  }
  return { layout, codec }
}

function checkIdFormat(options: SqlBackendOptions, layout: SqlLayout, codec: SessionCodec | null): IdFormat {
  const django = layout === 'django'
  const idFormat = options.idFormat ?? (django ? (codec?.idFormat ?? djangoIdFormat) : defaultIdFormat)
  if (typeof idFormat?.generate !== 'function' || typeof idFormat.validate !== 'function') {
    throw new SessionConfigError(PKG, 'idFormat', '%s must have generate() and validate()')
  }
  const maxIdLength = django ? 40 : 128
  if (idFormat.generate().length > maxIdLength) {
    throw new SessionConfigError(
      PKG,
      'idFormat',
      `%s makes ids longer than the ${maxIdLength} characters the ${layout} table holds`,
    )
  }
  return idFormat
}

/** Validates `sqlBackend`'s options once, into a new frozen object. Throws `SessionConfigError`. */
export function resolveSqlBackendOptions(options: SqlBackendOptions) {
  const client = checkClient(options)
  const dialect = checkDialect(client.dialect)
  const { layout, codec } = checkLayout(options)
  const tableName = options.table ?? DEFAULT_TABLES[layout]
  const userTable = options.userTable ?? null
  if (userTable !== null && layout !== 'django') {
    throw new SessionConfigError(
      PKG,
      'userTable',
      '%s is for the "django" layout: the native table has a user column',
    )
  }
  if (userTable !== null && client.singleWriteTransactions) {
    // A save that changes the user writes the session row and the user row in one transaction.
    throw new SessionConfigError(
      PKG,
      'userTable',
      '%s needs transactions that write twice, which this client (D1) does not have',
    )
  }
  return Object.freeze({
    client,
    dialect,
    layout,
    django: layout === 'django',
    codec,
    tableName,
    table: quoteTable(dialect, tableName),
    userTable: userTable === null ? null : quoteTable(dialect, userTable, 'userTable'),
    idFormat: checkIdFormat(options, layout, codec),
    batchSize: wholeNumber('batchSize', options.batchSize ?? 1000, 1),
    expiryStepMs: wholeNumber('expiryStep', options.expiryStep ?? 60, 0) * 1000,
    interval: wholeNumber('clearExpiredInterval', options.clearExpiredInterval ?? 0, 0),
    maxDataBytes:
      options.maxDataBytes === null
        ? null
        : wholeNumber('maxDataBytes', options.maxDataBytes ?? 1_048_576, 1),
    userIdKey: options.userIdKey ?? '_auth_user_id',
    logger: options.logger ?? console,
    now: options.now ?? wallClock,
  })
}

export type ResolvedSqlBackendOptions = ReturnType<typeof resolveSqlBackendOptions>

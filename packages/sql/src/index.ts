/** Writes a statement in the client's own placeholder syntax (`$1` on PostgreSQL, `?` elsewhere). */
export { sqlStatement } from '@sessionbridge/core/adapter'
export {
  type D1ClientOptions,
  type D1DatabaseLike,
  type D1PreparedStatementLike,
  type D1ResultLike,
  d1Client,
} from './adapters/d1.ts'
export {
  type MysqlCallbackConnectionLike,
  type MysqlCallbackPoolLike,
  type MysqlPoolConnectionLike,
  type MysqlPooledConnectionLike,
  type MysqlPoolLike,
  type MysqlPreparedLike,
  type MysqlQueryable,
  mysqlClient,
} from './adapters/mysql.ts'
export {
  type PgClientOptions,
  type PgNamedQuery,
  type PgPoolClientLike,
  type PgPoolLike,
  type PgQueryable,
  pgClient,
} from './adapters/pg.ts'
export { type PgliteLike, type PgliteQueryable, pgliteClient } from './adapters/pglite.ts'
export { type PostgresJsLike, type PostgresJsQueryable, postgresJsClient } from './adapters/postgres-js.ts'
export {
  type SqliteClientOptions,
  type SqliteDatabaseLike,
  type SqliteStatementLike,
  sqliteClient,
} from './adapters/sqlite.ts'
export {
  attemptTableDdl,
  DEFAULT_ATTEMPT_TABLE,
  type SqlAttemptStore,
  type SqlAttemptStoreOptions,
  sqlAttemptStore,
} from './attempts.ts'
export { applyChanges, type SqlBackend, type SqlBackendOptions, sqlBackend } from './backend.ts'
export type { SqlClient, SqlDialect, SqlResult } from './client.ts'
export {
  checkDjangoTable,
  DEFAULT_TABLES,
  djangoTableDdl,
  type MigrateOptions,
  migrate,
  nativeTableDdl,
  type SqlLayout,
} from './schema.ts'
export type { SideTableOptions } from './side-table.ts'
export {
  DEFAULT_TICKET_TABLE,
  type SqlTicketStore,
  type SqlTicketStoreOptions,
  sqlTicketStore,
  ticketTableDdl,
  ticketTableUpgradeDdl,
} from './tickets.ts'
export { DEFAULT_USER_TABLE, migrateUserTable, userTableDdl } from './user-table.ts'

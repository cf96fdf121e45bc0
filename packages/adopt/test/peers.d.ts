// The two connect stores ship no types; these are the parts the tests use.
declare module 'connect-pg-simple' {
  import type session from 'express-session'
  import type pg from 'pg'

  type PgStoreClass = new (options: {
    pool: pg.Pool
    tableName?: string
    createTableIfMissing?: boolean
  }) => session.Store & {
    close(): void
  }
  export default function connectPgSimple(s: typeof session): PgStoreClass
}
declare module 'connect-memcached' {
  import type session from 'express-session'

  type MemcachedStoreClass = new (options: { hosts: string[]; prefix?: string }) => session.Store
  export default function connectMemcached(s: typeof session): MemcachedStoreClass
}

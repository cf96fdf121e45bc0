import type { TicketPayload, TicketStore } from '@sessionbridge/core'
import { isPlainObject, randomToken, sqlStatement } from '@sessionbridge/core/adapter'
import type { SqlClient, SqlDialect } from './client.ts'
import { baseName, PKG, quoteName, quoteTable } from './dialect.ts'
import { tableColumns } from './schema.ts'
import { type SideTableOptions, sideTable } from './side-table.ts'

/** Default ticket table. */
export const DEFAULT_TICKET_TABLE = 'sessionbridge_ticket'

/** Options of `sqlTicketStore`. */
export interface SqlTicketStoreOptions extends SideTableOptions {
  /** Table name. @default 'sessionbridge_ticket' */
  table?: string
}

/** A `TicketStore` in SQL, with its table's migration and a purge of expired tickets. */
export interface SqlTicketStore extends TicketStore {
  /**
   * Creates the ticket table if it does not exist, and adds the `user_hash` column (and its index)
   * to a table made by an earlier version.
   */
  migrate(): Promise<void>
  /** Deletes every unconsumed ticket of `userId` (logout calls it). */
  revokeUser(userId: string): Promise<void>
  /** Deletes expired tickets; returns how many. */
  clearExpired(): Promise<number>
}

/**
 * The ticket table: the SHA-256 of each ticket (a leaked table yields no usable ticket), the
 * JSON payload, the expiry in epoch ms and the SHA-256 of the user id (so logout can revoke a
 * user's tickets; any id length, compared byte for byte in every collation).
 */
export function ticketTableDdl(dialect: SqlDialect, table: string = DEFAULT_TICKET_TABLE): string[] {
  const t = quoteTable(dialect, table)
  const ix = quoteName(dialect, `${baseName(table)}_expires_at`)
  const ux = quoteName(dialect, `${baseName(table)}_user_hash`)
  if (dialect === 'mysql') {
    return [
      `CREATE TABLE IF NOT EXISTS ${t} (ticket_hash char(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, payload mediumtext NOT NULL, expires_at bigint NOT NULL, user_hash char(64) CHARACTER SET ascii COLLATE ascii_bin NULL, KEY ${ix} (expires_at), KEY ${ux} (user_hash)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ]
  }
  const text = dialect === 'postgres' ? 'char(64)' : 'text'
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (ticket_hash ${text} NOT NULL PRIMARY KEY, payload text NOT NULL, expires_at bigint NOT NULL, user_hash ${text} NULL)`,
    `CREATE INDEX IF NOT EXISTS ${ix} ON ${t} (expires_at)`,
    `CREATE INDEX IF NOT EXISTS ${ux} ON ${t} (user_hash)`,
  ]
}

/**
 * What `migrate()` runs on a ticket table made before `user_hash` existed (0.1.0): adds the column
 * and its index. Tickets issued before carry no user and expire on their own.
 */
export function ticketTableUpgradeDdl(dialect: SqlDialect, table: string = DEFAULT_TICKET_TABLE): string[] {
  const t = quoteTable(dialect, table)
  const ux = quoteName(dialect, `${baseName(table)}_user_hash`)
  if (dialect === 'mysql') {
    return [
      `ALTER TABLE ${t} ADD COLUMN user_hash char(64) CHARACTER SET ascii COLLATE ascii_bin NULL, ADD KEY ${ux} (user_hash)`,
    ]
  }
  const text = dialect === 'postgres' ? 'char(64)' : 'text'
  return [
    `ALTER TABLE ${t} ADD COLUMN user_hash ${text} NULL`,
    `CREATE INDEX IF NOT EXISTS ${ux} ON ${t} (user_hash)`,
  ]
}

const TICKET = /^[A-Za-z0-9_-]{32}$/

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  return hex
}

/** Whether this server deletes with RETURNING: PostgreSQL, SQLite 3.35+, MariaDB 10.5+ (not MySQL). */
async function supportsDeleteReturning(client: SqlClient): Promise<boolean> {
  if (client.dialect === 'postgres') return true
  const sql = client.dialect === 'sqlite' ? 'SELECT sqlite_version() AS v' : 'SELECT VERSION() AS v'
  const { rows } = await client.query<{ v: unknown }>(sql)
  const version = String(rows[0]?.v ?? '')
  const [major = 0, minor = 0] = version.split(/[.-]/).map(Number)
  if (client.dialect === 'sqlite') return major > 3 || (major === 3 && minor >= 35)
  return /mariadb/i.test(version) && (major > 10 || (major === 10 && minor >= 5))
}

/** The ticket store's statements, in the dialect's own placeholder syntax. */
function ticketStatements(dialect: SqlDialect, t: string) {
  const s = (build: (p: () => string) => string) => sqlStatement(dialect, build)
  return {
    insert: s(
      (p) =>
        `INSERT INTO ${t} (ticket_hash, payload, expires_at, user_hash) VALUES (${p()}, ${p()}, ${p()}, ${p()})`,
    ),
    consume: s((p) => `DELETE FROM ${t} WHERE ticket_hash = ${p()} RETURNING payload, expires_at`),
    read: s((p) => `SELECT payload, expires_at FROM ${t} WHERE ticket_hash = ${p()}`),
    remove: s((p) => `DELETE FROM ${t} WHERE ticket_hash = ${p()}`),
    revoke: s((p) => `DELETE FROM ${t} WHERE user_hash = ${p()}`),
  }
}

/**
 * One-time tickets in SQL. `consume` is one `DELETE ... RETURNING` where the database has it, so
 * exactly one of any number of racing consumers gets the payload; on MySQL it is a read followed by
 * a `DELETE` whose affected-row count picks the single winner. `revokeUser` (logout) deletes the
 * user's unconsumed tickets through the `user_hash` index.
 */
export function sqlTicketStore(options: SqlTicketStoreOptions): SqlTicketStore {
  const side = sideTable(options, DEFAULT_TICKET_TABLE, 'ticket_hash', 'expires_at')
  const { client, dialect, tableName, table, sweepEvery, now, io, sweep } = side
  const statements = ticketStatements(dialect, table)
  let returning: Promise<boolean> | null = null
  let issued = 0
  const clearExpired = () => side.clearExpired('clearExpired')

  return {
    name: PKG,
    migrate: () =>
      io('migrate', async () => {
        const columns = await tableColumns(client, tableName, 'migrate')
        if (columns.size > 0 && !columns.has('user_hash')) {
          for (const statement of ticketTableUpgradeDdl(dialect, tableName)) await client.query(statement)
        }
        for (const statement of ticketTableDdl(dialect, tableName)) await client.query(statement)
      }),
    clearExpired,
    async issue(payload: TicketPayload, ttlMs: number) {
      if (!isPlainObject(payload) || typeof payload.userId !== 'string') {
        throw new TypeError('[sessionbridge/sql] a ticket payload is an object with a string userId')
      }
      if (!Number.isFinite(ttlMs) || ttlMs <= 0)
        throw new RangeError('[sessionbridge/sql] ticket ttlMs must be a positive number')
      const ticket = randomToken(24) // 192 bits
      const hash = await sha256Hex(ticket)
      const userHash = await sha256Hex(payload.userId)
      return io('issue', async () => {
        if (++issued % sweepEvery === 0) await client.query(sweep, [now()])
        await client.query(statements.insert, [
          hash,
          JSON.stringify(payload),
          Math.ceil(now() + ttlMs),
          userHash,
        ])
        return ticket
      })
    },
    async revokeUser(userId: string) {
      const userHash = await sha256Hex(String(userId))
      await io('revokeUser', () => client.query(statements.revoke, [userHash]))
    },
    async consume(ticket: string) {
      if (typeof ticket !== 'string' || !TICKET.test(ticket)) return null
      const hash = await sha256Hex(ticket)
      return io('consume', async () => {
        returning ??= supportsDeleteReturning(client).catch((error) => {
          returning = null // ask again next time
          throw error
        })
        let row: { payload?: unknown; expires_at?: unknown } | undefined
        if (await returning) {
          const { rows } = await client.query<typeof row & object>(statements.consume, [hash])
          row = rows[0]
        } else {
          const { rows } = await client.query<typeof row & object>(statements.read, [hash])
          row = rows[0]
          // Only the DELETE that removes the row wins; every other racer sees 0 rows.
          if (row && (await client.query(statements.remove, [hash])).rowCount !== 1) row = undefined
        }
        if (!row || Number(row.expires_at) <= now()) return null
        try {
          const payload: unknown = JSON.parse(String(row.payload))
          return isPlainObject(payload) && typeof payload.userId === 'string'
            ? (payload as TicketPayload)
            : null
        } catch {
          return null
        }
      })
    },
  }
}

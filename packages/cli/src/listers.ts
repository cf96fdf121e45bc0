import type { RedisCommands } from '@sessionbridge/redis'
import { type SqlClient, type SqlDialect, sqlStatement } from '@sessionbridge/sql'

/** Walks the ids a store holds, a page at a time, so a big store never sits in memory at once. */
export interface SessionLister {
  /** How many ids there are about to be (for the progress display); `null` when unknown. */
  estimate(): Promise<number | null>
  /** The ids, in pages. Expired or undecodable records may be among them: `load()` sorts them out. */
  pages(): AsyncIterable<string[]>
}

const PAGE = 500
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/

function quoted(dialect: SqlDialect, table: string): string {
  if (!TABLE_NAME.test(table)) throw new Error(`unsupported table name "${table}"`)
  const q = dialect === 'mysql' ? '`' : '"'
  return table
    .split('.')
    .map((part) => `${q}${part}${q}`)
    .join('.')
}

/** Keyset pagination over the primary key: each page is one indexed range scan. */
export function sqlLister(client: SqlClient, layout: 'native' | 'django', table: string): SessionLister {
  const t = quoted(client.dialect, table)
  const key = layout === 'native' ? 'id' : 'session_key'
  const page = sqlStatement(
    client.dialect,
    (p) => `SELECT ${key} AS k FROM ${t} WHERE ${key} > ${p()} ORDER BY ${key} LIMIT ${PAGE}`,
  )
  return {
    async estimate() {
      const { rows } = await client.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${t}`)
      return Number(rows[0]?.n ?? 0)
    },
    async *pages() {
      let after = ''
      for (;;) {
        const { rows } = await client.query<{ k: unknown }>(page, [after])
        if (rows.length === 0) return
        const ids = rows.map((row) => String(row.k))
        yield ids
        after = ids[ids.length - 1]!
        if (rows.length < PAGE) return
      }
    },
  }
}

/** `SCAN` over `<prefix>*`, leaving out the per-user index keys (`<prefix>user:{...}`). */
export function redisLister(commands: RedisCommands, prefix: string): SessionLister {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
  const indexPrefix = `${prefix}user:`
  return {
    async estimate() {
      return null
    },
    async *pages() {
      let cursor = '0'
      do {
        const reply = (await commands.send(pattern, [
          'SCAN',
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          String(PAGE),
        ])) as [string, string[]]
        cursor = String(reply[0])
        const ids = reply[1]
          .filter((key) => !key.startsWith(indexPrefix))
          .map((key) => key.slice(prefix.length))
        if (ids.length > 0) yield ids
      } while (cursor !== '0')
    },
  }
}

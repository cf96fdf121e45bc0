import { type D1DatabaseLike, d1Client } from '@sessionbridge/sql'
import Database from 'better-sqlite3'

/** Recreates the tables, indexes and rows of a SQLite file in D1 (Django's schema, made by `migrate`). */
export async function copySqliteToD1(file: string, db: D1DatabaseLike): Promise<void> {
  const client = d1Client(db)
  const local = new Database(file, { readonly: true })
  try {
    const objects = local
      .prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC",
      )
      .all() as Array<{ type: string; name: string; sql: string }>
    for (const { sql } of objects.filter((o) => o.type === 'table')) await client.query(sql)
    for (const { name } of objects.filter((o) => o.type === 'table')) {
      for (const row of local.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        const columns = Object.keys(row)
        await client.query(
          `INSERT INTO "${name}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
          Object.values(row),
        )
      }
    }
    for (const { sql } of objects.filter((o) => o.type === 'index')) await client.query(sql)
  } finally {
    local.close()
  }
}

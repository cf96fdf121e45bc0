import type { D1DatabaseLike } from '@sessionbridge/sql'
import Database from 'better-sqlite3'

/**
 * Recreates the tables, rows and indexes of a SQLite file in D1 (Django's schema, as `migrate`
 * made it), in one D1 batch.
 */
export async function copySqliteToD1(file: string, db: D1DatabaseLike): Promise<void> {
  const local = new Database(file, { readonly: true })
  try {
    const objects = local
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ type: string; name: string; sql: string }>
    const tables = objects.filter((o) => o.type === 'table')
    const statements = tables.map((t) => db.prepare(t.sql))
    for (const { name } of tables) {
      for (const row of local.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        const columns = Object.keys(row)
        const insert = `INSERT INTO "${name}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`
        statements.push(db.prepare(insert).bind(...Object.values(row)))
      }
    }
    for (const index of objects.filter((o) => o.type === 'index')) statements.push(db.prepare(index.sql))
    await db.batch(statements)
  } finally {
    local.close()
  }
}

import { mysqlClient } from '@sessionbridge/sql'
import { SERVICE_URLS, serviceAvailable, uniqueName } from '@sessionbridge/test-services'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { djangoInstalled, manage } from '../src/django.ts'
import { createDjangoSchema } from '../src/schema.ts'

const here = (await serviceAvailable('mariadb')) && (await djangoInstalled('mysql://'))
const NODE_DB = uniqueName('sb_example_node')
const DJANGO_DB = uniqueName('sb_example_django')

const urlOf = (database: string) => {
  const url = new URL(SERVICE_URLS.mariadb)
  url.pathname = `/${database}`
  return url.toString()
}

/** Every table as MariaDB shows it, keyed by name (the auto-increment counter left out). */
async function schemaOf(database: string): Promise<Record<string, string>> {
  const connection = await mysql.createConnection(urlOf(database))
  try {
    const [tables] = await connection.query('SHOW TABLES')
    const names = (tables as Array<Record<string, string>>).map((row) => Object.values(row)[0]!)
    const schema: Record<string, string> = {}
    for (const name of names.sort()) {
      const [rows] = await connection.query(`SHOW CREATE TABLE \`${name}\``)
      const sql = (rows as Array<Record<string, string>>)[0]!['Create Table']!
      schema[name] = sql.replace(/ AUTO_INCREMENT=\d+/, '')
    }
    return schema
  } finally {
    await connection.end()
  }
}

describe.skipIf(!here)("on MariaDB the schema Node creates is Django's own", () => {
  let admin: mysql.Connection
  beforeAll(async () => {
    admin = await mysql.createConnection(SERVICE_URLS.mariadb)
    for (const name of [NODE_DB, DJANGO_DB])
      await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`)
    const pool = mysql.createPool({ uri: urlOf(NODE_DB), connectionLimit: 2 })
    try {
      await createDjangoSchema(mysqlClient(pool))
    } finally {
      await pool.end()
    }
  })
  afterAll(async () => {
    if (!admin) return
    for (const name of [NODE_DB, DJANGO_DB]) await admin.query(`DROP DATABASE IF EXISTS ${name}`)
    await admin.end()
  })

  it('matches what manage.py migrate creates, table for table, and leaves nothing to migrate', async () => {
    const config = (database: string) =>
      loadConfig({ DATABASE_URL: urlOf(database), SECRET_KEY: 'schema-test-key' })
    await manage(config(DJANGO_DB), ['migrate', '--no-input', '-v', '0'])
    const node = await schemaOf(NODE_DB)
    expect(Object.keys(node)).toContain('django_session')
    expect(node).toEqual(await schemaOf(DJANGO_DB))
    await manage(config(NODE_DB), ['migrate', '--check'])
  })
})

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqlAttemptStore, sqliteClient } from '@sessionbridge/sql'
import { serviceAvailable } from '@sessionbridge/test-services'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { DEMO_USER, hashDjangoPassword } from '../src/database.ts'
import { manage, startDjango } from '../src/django.ts'
import { createDjangoSchema, seedUser } from '../src/schema.ts'
import { Client } from './client.ts'

const djangoHere = await serviceAvailable('django')

/** Every table and index as SQLite keeps it, keyed by name. */
function schemaOf(file: string): Record<string, string> {
  const db = new Database(file, { readonly: true })
  try {
    const rows = db
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as Array<{ name: string; sql: string }>
    return Object.fromEntries(rows.map((r) => [r.name, r.sql.replace(' IF NOT EXISTS', '')]))
  } finally {
    db.close()
  }
}

describe.skipIf(!djangoHere)("the schema Node creates when Django is absent is Django's own", () => {
  let dir: string
  let nodeFile: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-schema-'))
    nodeFile = join(dir, 'node.sqlite3')
    const db = new Database(nodeFile)
    const client = sqliteClient(db)
    await createDjangoSchema(client)
    await seedUser(client, {
      username: DEMO_USER.username,
      email: DEMO_USER.email,
      passwordHash: await hashDjangoPassword(DEMO_USER.password),
      permissions: ['auth.view_user'],
    })
    db.close()
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('matches what manage.py migrate creates, table for table and index for index', async () => {
    const djangoFile = join(dir, 'django.sqlite3')
    await manage(loadConfig({ DATABASE_URL: `sqlite:${djangoFile}` }), ['migrate', '--no-input', '-v', '0'])
    expect(schemaOf(nodeFile)).toEqual(schemaOf(djangoFile))
  })

  it('leaves no migration for Django to apply, and Django logs the Node-seeded user in', async () => {
    const config = loadConfig({
      DATABASE_URL: `sqlite:${nodeFile}`,
      DJANGO_PORT: '0',
      SECRET_KEY: 'schema-test-key',
    })
    await manage(config, ['migrate', '--check'])
    // The login throttle's table, which the Node stack creates at start and Django's login view shares.
    const db = new Database(nodeFile)
    await sqlAttemptStore({ client: sqliteClient(db) }).migrate()
    db.close()
    const django = await startDjango(config)
    try {
      const client = new Client()
      const login = await client.login(django.url, DEMO_USER.username, DEMO_USER.password)
      expect(login).toMatchObject({ status: 200, body: { username: 'demo' } })
      expect((await client.whoami(django.url)).body.authenticated).toBe(true)
    } finally {
      await django.stop()
    }
  })
})

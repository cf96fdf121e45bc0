// The SQL README's Django receiver, against each Django of the matrix (3.2, 4.2, 5.2): a session
// Django logs in is listed in sessionbridge's user table, so the Django layout's destroyUser logs it
// out too.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrateUserTable, type SqlClient, sqlBackend, sqliteClient } from '@sessionbridge/sql'
import { djangoVersions } from '@sessionbridge/test-services/django-versions'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { djangoCodec } from '../src/index.ts'
import { type DjangoProcess, startDjango } from './helpers.ts'

const KEY = 'user-table-test-secret-key-0123456789'
for (const install of await djangoVersions()) {
  describe.skipIf(!install.available)(
    `the Django layout's user table with Django ${install.line}'s own logins`,
    () => {
      let dir: string
      let withReceiver: DjangoProcess
      let without: DjangoProcess
      let db: Database.Database
      let client: SqlClient
      let userId: string
      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), 'sb-django-users-'))
        const path = join(dir, 'db.sqlite3')
        withReceiver = startDjango({
          db: `sqlite:${path}`,
          secretKey: KEY,
          django: install,
          sessionUserReceiver: true,
        })
        without = startDjango({ db: `sqlite:${path}`, secretKey: KEY, django: install })
        await withReceiver.call('migrate')
        db = new Database(path)
        client = sqliteClient(db)
        await migrateUserTable(client)
        const user = await withReceiver.call<{ id: number }>('create_user', {
          username: 'ada',
          password: 'pw-0123456789',
        })
        userId = String(user.id)
      }, 60_000)
      afterAll(async () => {
        await Promise.all([withReceiver?.close(), without?.close()])
        db?.close()
        rmSync(dir, { recursive: true, force: true })
      })

      it('lists Django logins made with the receiver, and destroyUser logs them out with Node’s', async () => {
        const backend = sqlBackend({
          client,
          layout: 'django',
          codec: djangoCodec({ secretKey: KEY }),
          userTable: 'sessionbridge_session_user',
          logger: { warn() {} },
        })
        const login = { username: 'ada', password: 'pw-0123456789' }
        const django = (await withReceiver.call<{ key: string }>('login', login)).key
        const unlisted = (await without.call<{ key: string }>('login', login)).key
        const node = (await backend.create(backend.idFormat.generate(), {
          data: { _auth_user_id: userId },
          expiresAt: Date.now() + 3_600_000,
          userId,
        }))!
        expect((await backend.listUser!(userId)).sort()).toEqual([django, node].sort())
        expect(await backend.destroyUser!(userId)).toBe(2)
        expect(await withReceiver.call('get_user', { key: django })).toEqual({ user: null, exists: false })
        expect(await backend.load(node)).toBeNull()
        // A Django without the receiver: its login is not listed, so it survives (the documented gap).
        const survivor = await without.call<{ user: { username: string } | null }>('get_user', {
          key: unlisted,
        })
        expect(survivor.user?.username).toBe('ada')
      })
    },
  )
}

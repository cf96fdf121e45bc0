/**
 * Django's schema for `auth`, `contenttypes` and `sessions`, as `manage.py migrate` (Django 3.2)
 * leaves it, for creating the embedded database when Django itself is not installed. The SQLite and
 * MySQL/MariaDB statements are copied from migrated databases (MariaDB's `SHOW CREATE TABLE`, without
 * table options: the tables take the database's character set, as Django's do); the PostgreSQL ones
 * follow Django's column types. The `django_migrations` rows make a later `migrate` see these
 * migrations as applied.
 */

import { sqlStatement } from '@sessionbridge/sql'

/** The few things schema creation needs from a SQL client (`@sessionbridge/sql`'s `SqlClient` fits). */
export interface SchemaClient {
  readonly dialect: 'postgres' | 'mysql' | 'sqlite'
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: unknown[] }>
}

/** Statements in the client's own placeholders: each `p()` is the next one (`$n` on PostgreSQL, else `?`). */
const statements = (client: SchemaClient) => (build: (p: () => string) => string) =>
  sqlStatement(client.dialect, build)

const SQLITE_DDL = [
  'CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL)',
  'CREATE TABLE "django_content_type" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL)',
  'CREATE UNIQUE INDEX "django_content_type_app_label_model_76bd3d3b_uniq" ON "django_content_type" ("app_label", "model")',
  'CREATE TABLE "auth_permission" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "codename" varchar(100) NOT NULL, "name" varchar(255) NOT NULL)',
  'CREATE UNIQUE INDEX "auth_permission_content_type_id_codename_01ab375a_uniq" ON "auth_permission" ("content_type_id", "codename")',
  'CREATE INDEX "auth_permission_content_type_id_2f476e4b" ON "auth_permission" ("content_type_id")',
  'CREATE TABLE "auth_group" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(150) NOT NULL UNIQUE)',
  'CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL)',
  'CREATE TABLE "auth_group_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED)',
  'CREATE UNIQUE INDEX "auth_group_permissions_group_id_permission_id_0cd325b0_uniq" ON "auth_group_permissions" ("group_id", "permission_id")',
  'CREATE INDEX "auth_group_permissions_group_id_b120cbf9" ON "auth_group_permissions" ("group_id")',
  'CREATE INDEX "auth_group_permissions_permission_id_84c5c92e" ON "auth_group_permissions" ("permission_id")',
  'CREATE TABLE "auth_user_groups" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED)',
  'CREATE UNIQUE INDEX "auth_user_groups_user_id_group_id_94350c0c_uniq" ON "auth_user_groups" ("user_id", "group_id")',
  'CREATE INDEX "auth_user_groups_user_id_6a12ed8b" ON "auth_user_groups" ("user_id")',
  'CREATE INDEX "auth_user_groups_group_id_97559544" ON "auth_user_groups" ("group_id")',
  'CREATE TABLE "auth_user_user_permissions" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED)',
  'CREATE UNIQUE INDEX "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq" ON "auth_user_user_permissions" ("user_id", "permission_id")',
  'CREATE INDEX "auth_user_user_permissions_user_id_a95ead1b" ON "auth_user_user_permissions" ("user_id")',
  'CREATE INDEX "auth_user_user_permissions_permission_id_1fbb5f2c" ON "auth_user_user_permissions" ("permission_id")',
  'CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL)',
  'CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")',
]

const POSTGRES_DDL = [
  'CREATE TABLE "django_migrations" ("id" serial PRIMARY KEY, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" timestamp with time zone NOT NULL)',
  'CREATE TABLE "django_content_type" ("id" serial PRIMARY KEY, "app_label" varchar(100) NOT NULL, "model" varchar(100) NOT NULL, CONSTRAINT "django_content_type_app_label_model_76bd3d3b_uniq" UNIQUE ("app_label", "model"))',
  'CREATE TABLE "auth_permission" ("id" serial PRIMARY KEY, "name" varchar(255) NOT NULL, "content_type_id" integer NOT NULL REFERENCES "django_content_type" ("id") DEFERRABLE INITIALLY DEFERRED, "codename" varchar(100) NOT NULL, CONSTRAINT "auth_permission_content_type_id_codename_01ab375a_uniq" UNIQUE ("content_type_id", "codename"))',
  'CREATE TABLE "auth_group" ("id" serial PRIMARY KEY, "name" varchar(150) NOT NULL UNIQUE)',
  'CREATE TABLE "auth_user" ("id" serial PRIMARY KEY, "password" varchar(128) NOT NULL, "last_login" timestamp with time zone NULL, "is_superuser" boolean NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" boolean NOT NULL, "is_active" boolean NOT NULL, "date_joined" timestamp with time zone NOT NULL)',
  'CREATE TABLE "auth_group_permissions" ("id" serial PRIMARY KEY, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "auth_group_permissions_group_id_permission_id_0cd325b0_uniq" UNIQUE ("group_id", "permission_id"))',
  'CREATE TABLE "auth_user_groups" ("id" serial PRIMARY KEY, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "group_id" integer NOT NULL REFERENCES "auth_group" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "auth_user_groups_user_id_group_id_94350c0c_uniq" UNIQUE ("user_id", "group_id"))',
  'CREATE TABLE "auth_user_user_permissions" ("id" serial PRIMARY KEY, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "permission_id" integer NOT NULL REFERENCES "auth_permission" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq" UNIQUE ("user_id", "permission_id"))',
  'CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" timestamp with time zone NOT NULL)',
  'CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")',
  'CREATE INDEX "django_session_session_key_c0390e0f_like" ON "django_session" ("session_key" varchar_pattern_ops)',
]

/** Foreign keys inline: MariaDB names each one's index after it, as after Django's separate ALTERs. */
const MYSQL_DDL = [
  'CREATE TABLE `django_migrations` (`id` int(11) NOT NULL AUTO_INCREMENT, `app` varchar(255) NOT NULL, `name` varchar(255) NOT NULL, `applied` datetime(6) NOT NULL, PRIMARY KEY (`id`))',
  'CREATE TABLE `django_content_type` (`id` int(11) NOT NULL AUTO_INCREMENT, `app_label` varchar(100) NOT NULL, `model` varchar(100) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `django_content_type_app_label_model_76bd3d3b_uniq` (`app_label`,`model`))',
  'CREATE TABLE `auth_permission` (`id` int(11) NOT NULL AUTO_INCREMENT, `name` varchar(255) NOT NULL, `content_type_id` int(11) NOT NULL, `codename` varchar(100) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `auth_permission_content_type_id_codename_01ab375a_uniq` (`content_type_id`,`codename`), CONSTRAINT `auth_permission_content_type_id_2f476e4b_fk_django_co` FOREIGN KEY (`content_type_id`) REFERENCES `django_content_type` (`id`))',
  'CREATE TABLE `auth_group` (`id` int(11) NOT NULL AUTO_INCREMENT, `name` varchar(150) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `name` (`name`))',
  'CREATE TABLE `auth_user` (`id` int(11) NOT NULL AUTO_INCREMENT, `password` varchar(128) NOT NULL, `last_login` datetime(6) DEFAULT NULL, `is_superuser` tinyint(1) NOT NULL, `username` varchar(150) NOT NULL, `first_name` varchar(150) NOT NULL, `last_name` varchar(150) NOT NULL, `email` varchar(254) NOT NULL, `is_staff` tinyint(1) NOT NULL, `is_active` tinyint(1) NOT NULL, `date_joined` datetime(6) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `username` (`username`))',
  'CREATE TABLE `auth_group_permissions` (`id` int(11) NOT NULL AUTO_INCREMENT, `group_id` int(11) NOT NULL, `permission_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `auth_group_permissions_group_id_permission_id_0cd325b0_uniq` (`group_id`,`permission_id`), CONSTRAINT `auth_group_permissio_permission_id_84c5c92e_fk_auth_perm` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`), CONSTRAINT `auth_group_permissions_group_id_b120cbf9_fk_auth_group_id` FOREIGN KEY (`group_id`) REFERENCES `auth_group` (`id`))',
  'CREATE TABLE `auth_user_groups` (`id` int(11) NOT NULL AUTO_INCREMENT, `user_id` int(11) NOT NULL, `group_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `auth_user_groups_user_id_group_id_94350c0c_uniq` (`user_id`,`group_id`), CONSTRAINT `auth_user_groups_group_id_97559544_fk_auth_group_id` FOREIGN KEY (`group_id`) REFERENCES `auth_group` (`id`), CONSTRAINT `auth_user_groups_user_id_6a12ed8b_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`))',
  'CREATE TABLE `auth_user_user_permissions` (`id` int(11) NOT NULL AUTO_INCREMENT, `user_id` int(11) NOT NULL, `permission_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `auth_user_user_permissions_user_id_permission_id_14a6b632_uniq` (`user_id`,`permission_id`), CONSTRAINT `auth_user_user_permi_permission_id_1fbb5f2c_fk_auth_perm` FOREIGN KEY (`permission_id`) REFERENCES `auth_permission` (`id`), CONSTRAINT `auth_user_user_permissions_user_id_a95ead1b_fk_auth_user_id` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`))',
  'CREATE TABLE `django_session` (`session_key` varchar(40) NOT NULL, `session_data` longtext NOT NULL, `expire_date` datetime(6) NOT NULL, PRIMARY KEY (`session_key`), KEY `django_session_expire_date_a5c62663` (`expire_date`))',
]

const MIGRATIONS: ReadonlyArray<readonly [string, string]> = [
  ['contenttypes', '0001_initial'],
  ['contenttypes', '0002_remove_content_type_name'],
  ...[
    '0001_initial',
    '0002_alter_permission_name_max_length',
    '0003_alter_user_email_max_length',
    '0004_alter_user_username_opts',
    '0005_alter_user_last_login_null',
    '0006_require_contenttypes_0002',
    '0007_alter_validators_add_error_messages',
    '0008_alter_user_username_max_length',
    '0009_alter_user_last_name_max_length',
    '0010_alter_group_name_max_length',
    '0011_update_proxy_permissions',
    '0012_alter_user_first_name_max_length',
  ].map((name) => ['auth', name] as const),
  ['sessions', '0001_initial'],
]

/** Each model's content type and verbose name; migrate adds add/change/delete/view permissions for each. */
const MODELS: ReadonlyArray<readonly [app: string, model: string, verbose: string]> = [
  ['auth', 'permission', 'permission'],
  ['auth', 'group', 'group'],
  ['auth', 'user', 'user'],
  ['contenttypes', 'contenttype', 'content type'],
  ['sessions', 'session', 'session'],
]

/**
 * "Now" as Django stores it with `USE_TZ`: an instant (a Date) on PostgreSQL; naive UTC text
 * (`YYYY-MM-DD HH:MM:SS.ffffff`) on SQLite and MySQL/MariaDB, whatever the client's time zone.
 */
export function djangoNow(dialect: SchemaClient['dialect']): string | Date {
  const now = new Date()
  if (dialect === 'postgres') return now
  return `${now.toISOString().slice(0, 19).replace('T', ' ')}.${String(now.getUTCMilliseconds() * 1000).padStart(6, '0')}`
}

const DDL: Record<SchemaClient['dialect'], readonly string[]> = {
  sqlite: SQLITE_DDL,
  postgres: POSTGRES_DDL,
  mysql: MYSQL_DDL,
}

/** Creates Django's tables, content types and permissions in an empty database (SQLite, PostgreSQL, MySQL/MariaDB). */
export async function createDjangoSchema(client: SchemaClient): Promise<void> {
  const sql = statements(client)
  const now = djangoNow(client.dialect)
  for (const statement of DDL[client.dialect]) await client.query(statement)
  for (const [app, name] of MIGRATIONS) {
    await client.query(
      sql((p) => `INSERT INTO django_migrations (app, name, applied) VALUES (${p()}, ${p()}, ${p()})`),
      [app, name, now],
    )
  }
  for (const [app, model, verbose] of MODELS) {
    await client.query(
      sql((p) => `INSERT INTO django_content_type (app_label, model) VALUES (${p()}, ${p()})`),
      [app, model],
    )
    const found = await client.query(
      sql((p) => `SELECT id FROM django_content_type WHERE app_label = ${p()} AND model = ${p()}`),
      [app, model],
    )
    const typeId = (found.rows[0] as { id: number }).id
    for (const action of ['add', 'change', 'delete', 'view']) {
      await client.query(
        sql(
          (p) =>
            `INSERT INTO auth_permission (name, content_type_id, codename) VALUES (${p()}, ${p()}, ${p()})`,
        ),
        [`Can ${action} ${verbose}`, typeId, `${action}_${model}`],
      )
    }
  }
}

/** A user to put in `auth_user`. */
export interface UserSeed {
  username: string
  /** Django's encoded password hash. */
  passwordHash: string
  email?: string
  firstName?: string
  /** `app_label.codename` strings granted directly to the user. */
  permissions?: readonly string[]
}

/** Inserts a user (and its direct permissions) unless one of that name exists. Returns its id. */
export async function seedUser(client: SchemaClient, seed: UserSeed): Promise<number> {
  const sql = statements(client)
  const existing = await client.query(
    sql((p) => `SELECT id FROM auth_user WHERE username = ${p()}`),
    [seed.username],
  )
  if (existing.rows.length > 0) return Number((existing.rows[0] as { id: number }).id)
  const flag = (value: boolean) => (client.dialect === 'postgres' ? value : Number(value))
  await client.query(
    sql(
      (p) =>
        `INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES (${p()}, NULL, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()}, ${p()})`,
    ),
    [
      seed.passwordHash,
      flag(false),
      seed.username,
      seed.firstName ?? '',
      '',
      seed.email ?? '',
      flag(false),
      flag(true),
      djangoNow(client.dialect),
    ],
  )
  const created = await client.query(
    sql((p) => `SELECT id FROM auth_user WHERE username = ${p()}`),
    [seed.username],
  )
  const id = Number((created.rows[0] as { id: number }).id)
  for (const perm of seed.permissions ?? []) {
    const [app, codename] = perm.split('.')
    const found = await client.query(
      sql(
        (p) =>
          `SELECT p.id FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id WHERE ct.app_label = ${p()} AND p.codename = ${p()}`,
      ),
      [app, codename],
    )
    const permissionId = (found.rows[0] as { id: number } | undefined)?.id
    if (permissionId === undefined) throw new Error(`no permission ${perm}`)
    await client.query(
      sql((p) => `INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES (${p()}, ${p()})`),
      [id, permissionId],
    )
  }
  return id
}

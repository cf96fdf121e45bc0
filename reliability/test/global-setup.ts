/**
 * One database of this run's own (`sb_rel_<pid>_<random>`) on the shared PostgreSQL and MariaDB:
 * its name goes to every test file through `SB_REL_DATABASE` (the workers inherit it), the files
 * create it on first use (`ensurePgDatabase`, `ensureMariaDatabase`), and it is dropped here at
 * the end, so two runs on one machine never meet.
 */
import { SERVICE_URLS, uniqueName } from '@sessionbridge/test-services'
import mysql from 'mysql2/promise'
import pg from 'pg'

export function setup(): () => Promise<void> {
  const name = uniqueName('sb_rel')
  process.env.SB_REL_DATABASE = name
  return async () => {
    const pgAdmin = new pg.Client({ connectionString: SERVICE_URLS.postgres })
    await pgAdmin
      .connect()
      .then(() => pgAdmin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
      .catch(() => {}) // server absent: nothing was created there
      .finally(() => pgAdmin.end().catch(() => {}))
    const maria = await mysql.createConnection(SERVICE_URLS.mariadb).catch(() => null)
    await maria?.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => {})
    await maria?.end()
  }
}

import { SERVICE_URLS, serviceAvailable, uniqueName } from '@sessionbridge/test-services'
import mysql from 'mysql2/promise'
import { afterAll, describe } from 'vitest'
import { djangoInstalled } from '../src/django.ts'
import { sharedLoginSuite } from './contract-suite.ts'

const mariadbHere = await serviceAvailable('mariadb')
// Django joins where MySQLdb is installed (.ci/run installs python3-mysqldb).
const djangoHere = (await serviceAvailable('django')) && (await djangoInstalled('mysql://'))

async function admin(statement: string): Promise<void> {
  const connection = await mysql.createConnection(SERVICE_URLS.mariadb)
  try {
    await connection.query(statement)
  } finally {
    await connection.end()
  }
}

/** This run's own database: the example creates Django's schema in it. */
const DATABASE = uniqueName('sb_example')
async function freshDatabase(): Promise<string> {
  await admin(`CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4`)
  const url = new URL(SERVICE_URLS.mariadb)
  url.pathname = `/${DATABASE}`
  return url.toString()
}

describe.skipIf(!mariadbHere)('MariaDB', () => {
  afterAll(() => admin(`DROP DATABASE IF EXISTS ${DATABASE}`))
  sharedLoginSuite(
    'sql on MariaDB',
    async () => ({ SESSION_BACKEND: 'sql', DATABASE_URL: await freshDatabase() }),
    djangoHere,
  )
})

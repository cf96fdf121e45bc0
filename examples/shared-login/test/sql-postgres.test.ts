import { SERVICE_URLS, serviceAvailable, uniqueName } from '@sessionbridge/test-services'
import pg from 'pg'
import { afterAll, describe } from 'vitest'
import { djangoInstalled } from '../src/django.ts'
import { sharedLoginSuite } from './contract-suite.ts'

const postgresHere = await serviceAvailable('postgres')
// Django joins where psycopg2 is installed (.ci/run installs it).
const djangoHere = (await serviceAvailable('django')) && (await djangoInstalled('postgres://'))

async function admin(...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: SERVICE_URLS.postgres })
  await client.connect()
  try {
    for (const statement of statements) await client.query(statement)
  } finally {
    await client.end()
  }
}

/** This run's own database: the example creates Django's schema in it. */
const DATABASE = uniqueName('sb_example')
async function freshDatabase(): Promise<string> {
  await admin(`CREATE DATABASE ${DATABASE}`)
  const url = new URL(SERVICE_URLS.postgres)
  url.pathname = `/${DATABASE}`
  return url.toString()
}

describe.skipIf(!postgresHere)('PostgreSQL', () => {
  afterAll(() => admin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`))
  sharedLoginSuite(
    'sql on PostgreSQL',
    async () => ({ SESSION_BACKEND: 'sql', DATABASE_URL: await freshDatabase() }),
    djangoHere,
  )
})

import { migrate, mysqlClient, pgClient, sqlBackend } from '@sessionbridge/sql'
import { SERVICE_URLS, serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe } from 'vitest'
import { describeFaults } from '../src/faults.ts'
import {
  ensureMariaDatabase,
  ensurePgDatabase,
  hostOf,
  mariaPool,
  pgPool,
  relTable,
} from '../src/services.ts'

const quiet = { warn() {} }
const pgUp = await serviceAvailable('postgres')
const mariaUp = await serviceAvailable('mariadb')

describe.skipIf(!pgUp)('postgres', () => {
  const table = relTable('faults')
  beforeAll(async () => {
    await ensurePgDatabase()
    const pool = pgPool()
    await migrate(pgClient(pool), { layout: 'native', table })
    await pool.end()
  })
  afterAll(async () => {
    const pool = pgPool()
    await pool.query(`DROP TABLE IF EXISTS ${table}`)
    await pool.end()
  })
  describeFaults({
    name: 'postgres',
    server: hostOf(SERVICE_URLS.postgres),
    async open(address) {
      const pool = pgPool(address)
      const backend = sqlBackend({ client: pgClient(pool), layout: 'native', table, logger: quiet })
      return { backend, close: () => pool.end() }
    },
    ownTimeout: {
      ms: 300,
      async open(address) {
        const pool = pgPool(address, 10, 300)
        const backend = sqlBackend({ client: pgClient(pool), layout: 'native', table, logger: quiet })
        return { backend, close: () => pool.end() }
      },
    },
  })
})

describe.skipIf(!mariaUp)('mariadb', () => {
  const table = relTable('faults')
  beforeAll(async () => {
    await ensureMariaDatabase()
    const pool = mariaPool()
    await migrate(mysqlClient(pool), { layout: 'native', table })
    await pool.end()
  })
  afterAll(async () => {
    const pool = mariaPool()
    await pool.query(`DROP TABLE IF EXISTS ${table}`)
    await pool.end()
  })
  describeFaults({
    name: 'mariadb',
    server: hostOf(SERVICE_URLS.mariadb),
    async open(address) {
      const pool = mariaPool(address)
      const backend = sqlBackend({ client: mysqlClient(pool), layout: 'native', table, logger: quiet })
      return { backend, close: () => pool.end() }
    },
  })
})

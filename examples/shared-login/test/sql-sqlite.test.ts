import { serviceAvailable } from '@sessionbridge/test-services'
import { sharedLoginSuite } from './contract-suite.ts'

// Django's own table in one SQLite file: Django joins in wherever it is installed (always in CI).
sharedLoginSuite('sql on SQLite', async () => ({ SESSION_BACKEND: 'sql' }), await serviceAvailable('django'))

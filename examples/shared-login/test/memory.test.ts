import { sharedLoginSuite } from './contract-suite.ts'

// Memory sessions live in one process: the four Node apps of one process share them; Django cannot.
sharedLoginSuite('memory (one process)', async () => ({ SESSION_BACKEND: 'memory' }), false)

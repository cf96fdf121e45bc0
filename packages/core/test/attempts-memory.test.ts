import { memoryAttemptStore } from '../src/index.ts'
import { testAttemptStore } from '../src/testing/index.ts'

testAttemptStore({ name: 'memory', store: () => memoryAttemptStore() })

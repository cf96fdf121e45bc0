import { testFrameworkBehaviour } from '@sessionbridge/core/testing/http'
import { listening } from './app.ts'

// Socket only: light-my-request's fake requests lose their methods when Express swaps prototypes.
testFrameworkBehaviour({ name: 'express (socket)', makeApp: listening })

import { testFrameworkBehaviour } from '@sessionbridge/core/testing/http'
import { injected, listening } from './app.ts'

testFrameworkBehaviour({ name: 'koa (app.callback)', makeApp: injected })
testFrameworkBehaviour({ name: 'koa (socket)', makeApp: listening })

import { fetchTransport } from '../src/index.ts'
import { conformanceOver } from './conformance.ts'

await conformanceOver('fetch', () => fetchTransport(), { strict: true })

import { undiciTransport } from '../src/undici.ts'
import { conformanceOver } from './conformance.ts'

await conformanceOver('undici', () => undiciTransport({ connections: 8 }), { strict: true })

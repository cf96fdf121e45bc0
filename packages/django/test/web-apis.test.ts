// The codec's Django 3.2 suite on the Web APIs path (Web Crypto and Compression Streams), which
// runtimes without Node's crypto and zlib take: nativeModules is null in this file only.
import { djangoVersion } from '@sessionbridge/test-services/django-versions'
import { afterAll, expect, vi } from 'vitest'
import { codecSuite } from './suites/codec.ts'

vi.mock('@sessionbridge/core/adapter', async (original) => ({
  ...(await original<typeof import('@sessionbridge/core/adapter')>()),
  nativeModules: null,
}))

// Counts what the suite inflates through DecompressionStream, so a suite that silently took Node's
// zlib fails below.
const { DecompressionStream: Original } = globalThis
let inflated = 0
globalThis.DecompressionStream = class extends Original {
  constructor(format: CompressionFormat) {
    super(format)
    inflated++
  }
}
afterAll(() => {
  globalThis.DecompressionStream = Original
  expect(inflated).toBeGreaterThan(0)
})

codecSuite(await djangoVersion('3.2'))

import { createSessionManager, memoryBackend, type SessionData } from '@sessionbridge/core'
import { isPlainObject, type MemoryEntry } from '@sessionbridge/core/adapter'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { byteString, FUZZ_TIMEOUT, fuzzParams } from '../src/fuzz.ts'

vi.setConfig({ testTimeout: FUZZ_TIMEOUT })

const quiet = { warn() {} }
const ID = 'a'.repeat(32)

/** Stored JSON whose reserved keys hold anything: what a foreign writer (or a bug) could leave. */
const hostileData = fc.dictionary(
  fc.oneof(
    fc.constantFrom('_session_expiry', '_sb_created', '_sb_flash', '_auth_user_id'),
    fc.string({ maxLength: 8 }),
  ),
  fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constantFrom(1e308, -1, 0, Number.MAX_SAFE_INTEGER, 2 ** 31, 1e15, 1e16),
    fc.string(),
    fc.constant(null),
    fc.boolean(),
    fc.array(fc.integer(), { maxLength: 3 }),
  ),
  { maxKeys: 6 },
)

describe('hostile stored records: memory backend', () => {
  it('random bytes in the store load as null (no session), never a crash', async () => {
    const storage = new Map<string, MemoryEntry>()
    const backend = memoryBackend({ storage })
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      await fc.assert(
        fc.asyncProperty(byteString(200), async (json) => {
          storage.set(ID, { json, expiresAt: Date.now() + 60_000, userId: null })
          const record = await backend.load(ID)
          if (record !== null) expect(isPlainObject(record.data)).toBe(true)
        }),
        fuzzParams(),
      )
    } finally {
      warn.mockRestore()
    }
  })

  it('stored data with hostile reserved keys never makes a request throw', async () => {
    const storage = new Map<string, MemoryEntry>()
    const manager = createSessionManager({
      backend: memoryBackend({ storage }),
      logger: quiet,
      touchInterval: 1,
    })
    await fc.assert(
      fc.asyncProperty(
        hostileData,
        fc.constantFrom('read', 'write', 'regenerate', 'destroy'),
        async (data, action) => {
          storage.set(ID, { json: JSON.stringify(data), expiresAt: Date.now() + 60_000, userId: null })
          const session = await manager.open({ cookie: `sessionid=${ID}` })
          await session.all()
          if (action === 'write') session.set('n', 1)
          if (action === 'regenerate') session.regenerate()
          if (action === 'destroy') session.destroy()
          const result = await session.commit()
          if (result.setCookie !== null) expect(result.setCookie).toMatch(/^sessionid=/)
        },
      ),
      fuzzParams(),
    )
  })

  it('the JSON codec answers null for anything that is not an object', async () => {
    const { jsonCodec } = await import('@sessionbridge/core')
    await fc.assert(
      fc.asyncProperty(fc.oneof(byteString(), fc.json()), async (text) => {
        const decoded: SessionData | null = await jsonCodec.decode(text)
        if (decoded !== null) expect(isPlainObject(decoded)).toBe(true)
      }),
      fuzzParams(),
    )
  })
})

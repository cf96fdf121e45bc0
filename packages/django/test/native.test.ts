// Node's crypto and zlib against the Web APIs path they replace: the same bytes and the same
// refusals on one corpus (no Django needed). web-apis.test.ts runs the codec's Django suite on the
// Web path; examples/edge runs it inside workerd.
import { nativeModules } from '@sessionbridge/core/adapter'
import { describe, expect, it } from 'vitest'
import { latin1Decode, saltedHmac } from '../src/crypto.ts'
import { djangoCodec } from '../src/index.ts'
import { zlibCompress, zlibDecompress } from '../src/zlib.ts'

const native = nativeModules
const text = (s: string) => new TextEncoder().encode(s)
/** `zlib.compress(b'a')`. */
const TINY_STREAM = new Uint8Array([120, 156, 75, 4, 0, 0, 98, 0, 98])

/** Counts the streams made while `run` runs, by wrapping the global classes. */
async function streamsMadeBy(run: () => Promise<unknown>): Promise<number> {
  const { CompressionStream: C, DecompressionStream: D } = globalThis
  let made = 0
  globalThis.CompressionStream = class extends C {
    constructor(format: CompressionFormat) {
      super(format)
      made++
    }
  }
  globalThis.DecompressionStream = class extends D {
    constructor(format: CompressionFormat) {
      super(format)
      made++
    }
  }
  try {
    await run()
  } finally {
    globalThis.CompressionStream = C
    globalThis.DecompressionStream = D
  }
  return made
}

describe("Node's crypto and zlib beside the Web APIs", () => {
  it('finds node:crypto and node:zlib (process.getBuiltinModule, Node >= 20.16)', () => {
    expect(native).not.toBeNull()
  })

  it('saltedHmac gives the same digest on both paths', async () => {
    const values = ['', 'abc', 'é€😀', 'a\ud800b', 'k'.repeat(5000)]
    for (const algorithm of ['sha1', 'sha256'] as const)
      for (const value of [...values, text('bytes \u00ff')]) {
        const web = await saltedHmac('salt', value, 'secret-é', algorithm, null)
        const node = await saltedHmac('salt', value, 'secret-é', algorithm, native!.crypto)
        expect(node).toEqual(web)
        expect(Object.getPrototypeOf(node)).toBe(Uint8Array.prototype)
      }
  })

  it('latin1Decode is latin-1 for every byte, also where UTF-8 or windows-1252 would differ', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    expect(latin1Decode(all)).toBe(String.fromCharCode(...all))
    expect(latin1Decode(text('é'))).toBe('\u00c3\u00a9')
    expect(latin1Decode(new Uint8Array([0x80, 0x9f]))).toBe('\u0080\u009f')
    expect(latin1Decode(text('{"a":"ascii"}'))).toBe('{"a":"ascii"}')
    expect(latin1Decode(new Uint8Array(20_000).fill(0xe9))).toBe('\u00e9'.repeat(20_000))
  })

  it('inflate answers the same bytes, or the same null, on both paths', async () => {
    const good = await zlibCompress(text('hello world '.repeat(40)), null)
    expect(await zlibCompress(text('hello world '.repeat(40)), native!.zlib)).toEqual(good)
    const join = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]))
    const corpus: [string, Uint8Array<ArrayBuffer>][] = [
      ['complete', good],
      ['bytes after the stream', join(good, text('junk'))],
      ['two streams', join(good, good)],
      ['truncated', good.slice(0, -3)],
      ['empty', new Uint8Array(0)],
      ['not zlib', text('hello world')],
      ['a flipped byte', good.map((b, i) => (i === 10 ? b ^ 0xff : b))],
    ]
    for (const limit of [480, 479, 1, 0, 16 * 1024 * 1024])
      for (const [name, data] of corpus) {
        const web = await zlibDecompress(data, limit, null)
        const node = await zlibDecompress(data, limit, native!.zlib)
        expect(node, `${name}, limit ${limit}`).toEqual(web)
      }
    // The limit is the size of the whole output: exactly at it passes, one below refuses.
    expect((await zlibDecompress(good, 480, native!.zlib))?.length).toBe(480)
    expect(await zlibDecompress(good, 479, native!.zlib)).toBeNull()
    const bomb = await zlibCompress(new Uint8Array(8 * 1024 * 1024), native!.zlib)
    expect(await zlibDecompress(bomb, 1024 * 1024, native!.zlib)).toBeNull()
  })

  it('the codec reads and writes compressed sessions without making a stream', async () => {
    const codec = djangoCodec({ secretKey: 'native-test-secret', cacheSize: 0 })
    const data = { note: 'édge '.repeat(400), _auth_user_id: '7' }
    let stored = ''
    expect(
      await streamsMadeBy(async () => {
        stored = await codec.encode(data)
        expect(await codec.decode(stored)).toEqual(data)
      }),
    ).toBe(0)
    expect(stored.startsWith('.')).toBe(true)
    // The Web path counts its streams, so the zero above can fail.
    expect(await streamsMadeBy(() => zlibDecompress(TINY_STREAM, 100, null))).toBe(1)
  })
})

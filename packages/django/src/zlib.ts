/** zlib (RFC 1950) through the Web Streams API: what Python's `zlib.compress`/`decompress` speak. */

async function collect(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      return null
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

function pipe(data: Uint8Array<ArrayBuffer>, transform: CompressionStream | DecompressionStream) {
  const writer = transform.writable.getWriter()
  // Errors surface on the readable side; swallow them here so none goes unhandled.
  writer.write(data).catch(() => {})
  writer.close().catch(() => {})
  return transform.readable
}

/** `zlib.compress(data)`. */
export async function zlibCompress(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return (await collect(pipe(data, new CompressionStream('deflate')), Number.POSITIVE_INFINITY))!
}

/**
 * `zlib.decompress(data)`; `null` for anything that is not one complete zlib stream, or that inflates
 * past `limit` bytes (a zip bomb stops there).
 */
export async function zlibDecompress(
  data: Uint8Array<ArrayBuffer>,
  limit: number,
): Promise<Uint8Array | null> {
  try {
    return await collect(pipe(data, new DecompressionStream('deflate')), limit)
  } catch {
    return null
  }
}

import type { IncomingMessage } from 'node:http'

/**
 * The request body as text, or `null` when it exceeds `limit` bytes (the Koa and Express apps; the
 * Fastify and Hono apps use their framework's limit). The rest of an oversized body is drained, not
 * destroyed: the socket must stay to answer (and Koa reads it for `ctx.protocol`).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) return void chunks.push(chunk)
      req.off('data', onData)
      req.resume()
      resolve(null)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.once('error', reject)
  })
}

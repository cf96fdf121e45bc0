import { base64UrlEncode } from '@sessionbridge/core/adapter'
import { base64DecodeLenient, latin1Decode, latin1Encode } from './crypto.ts'
import { pythonJsonDumps, pythonJsonLoads } from './python-json.ts'
import { type SignerOptions, TimestampSigner } from './signer.ts'
import { zlibCompress, zlibDecompress } from './zlib.ts'

/** Options of `dumps`. */
export interface DumpsOptions extends Omit<SignerOptions, 'salt'> {
  /** Namespace of the signature. @default 'django.core.signing' */
  salt?: string
  /** zlib-compress when that saves space (marked by a leading `.`). @default false */
  compress?: boolean
}

/** Options of `loads`. */
export interface LoadsOptions extends Omit<SignerOptions, 'salt'> {
  /** Namespace of the signature. @default 'django.core.signing' */
  salt?: string
  /** Refuse values signed longer ago than this many seconds. @default undefined (any age) */
  maxAge?: number
  /** Largest JSON payload accepted after inflating, in bytes. @default 16777216 (16 MiB) */
  maxBytes?: number
}

/** What `loads` found. A failure names the problem; it never throws for bad input. */
export type LoadsResult =
  | { ok: true; value: unknown; timestamp: number }
  | { ok: false; reason: 'bad-signature' | 'expired' | 'malformed' }

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024

/**
 * Django's `signing.dumps(obj, salt=..., compress=...)`: Python-exact JSON, compressed only when that
 * saves more than one byte, URL-safe base64, `TimestampSigner` signature.
 */
export async function dumps(value: unknown, options: DumpsOptions): Promise<string> {
  const signer = new TimestampSigner({ ...options, salt: options.salt ?? 'django.core.signing' })
  // ensure_ascii output is pure ASCII, so latin-1 encoding cannot fail.
  let data = latin1Encode(pythonJsonDumps(value))!
  let flag = ''
  if (options.compress) {
    const compressed = await zlibCompress(data)
    if (compressed.length < data.length - 1) {
      data = compressed as Uint8Array<ArrayBuffer>
      flag = '.'
    }
  }
  return signer.sign(flag + base64UrlEncode(data))
}

/** Reads the signed payload of `signing.dumps`: base64url, optionally zlib, then latin-1 JSON. */
export async function decodePayload(
  payload: string,
  maxBytes = DEFAULT_MAX_BYTES,
): Promise<{ value: unknown } | null> {
  const compressed = payload.startsWith('.')
  let data = base64DecodeLenient(compressed ? payload.slice(1) : payload)
  if (data === null) return null
  if (compressed) data = await zlibDecompress(data as Uint8Array<ArrayBuffer>, maxBytes)
  if (data === null || data.length > maxBytes) return null
  try {
    return { value: pythonJsonLoads(latin1Decode(data)) }
  } catch {
    return null
  }
}

/** Django's `signing.loads(s, salt=..., max_age=...)`, answering with a result instead of raising. */
export async function loads(signed: string, options: LoadsOptions): Promise<LoadsResult> {
  const signer = new TimestampSigner({ ...options, salt: options.salt ?? 'django.core.signing' })
  const check = await signer.check(signed, options.maxAge === undefined ? {} : { maxAge: options.maxAge })
  if (check.status !== 'valid') return { ok: false, reason: check.status }
  const decoded = await decodePayload(check.value, options.maxBytes)
  if (!decoded) return { ok: false, reason: 'malformed' }
  return { ok: true, value: decoded.value, timestamp: check.timestamp }
}

/**
 * Node's own `crypto` and `zlib`, where the runtime has them (Node >= 20.16, Bun, Deno, workerd
 * with nodejs_compat), reached through `process.getBuiltinModule` so that no `node:` import ties
 * the packages to Node. Elsewhere (workerd without nodejs_compat, browsers) the callers take the
 * Web APIs path: Web Crypto and Compression Streams.
 *
 * Why: the Web APIs are asynchronous and slow for the small inputs a session has. On Node 20, one
 * HMAC-SHA256 of a session id through `crypto.subtle.sign` cost about 6x `createHmac`'s CPU (33 µs
 * against 5.4), and inflating a 200-byte Django session through `DecompressionStream` about 17x
 * `inflateSync`'s (148 µs against 8.7), measured in a loop on a slow VM; what callers gain is in
 * `bench/src/core-read-cpu.ts` (`SESSIONS=20000`) and `bench/src/django-codec.ts`. Both paths give
 * the same bytes; the tests check each pair on one corpus.
 */

/** What `createHmac(...)` and `createHash(...)` answer, as far as sessionbridge uses them. */
export interface NativeDigest {
  update(data: string | Uint8Array): NativeDigest
  digest(): Uint8Array
  digest(encoding: 'base64' | 'base64url' | 'hex'): string
}

/** The parts of `node:crypto` sessionbridge uses. */
export interface NativeCrypto {
  createHmac(algorithm: string, key: string | Uint8Array): NativeDigest
  createHash(algorithm: string): NativeDigest
}

/** The parts of `node:zlib` sessionbridge uses (RFC 1950 streams, as Python's `zlib`). */
export interface NativeZlib {
  /** Throws when the input is not one complete stream, or inflates past `maxOutputLength`. */
  inflateSync(data: Uint8Array, options?: { maxOutputLength?: number }): Uint8Array
  deflateSync(data: Uint8Array): Uint8Array
}

/** Node's `crypto` and `zlib`, or `null` where the runtime lacks either. */
export interface NativeModules {
  readonly crypto: NativeCrypto
  readonly zlib: NativeZlib
}

/**
 * One built-in module by id (`node:diagnostics_channel`, ...), or `undefined` where the runtime has
 * no `process.getBuiltinModule` or no such module.
 */
export function builtinModule(id: string): unknown {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    return runtime?.getBuiltinModule?.(id) ?? undefined
  } catch {
    return undefined
  }
}

function lookUp(): NativeModules | null {
  const crypto = builtinModule('node:crypto') as Partial<NativeCrypto> | undefined
  const zlib = builtinModule('node:zlib') as Partial<NativeZlib> | undefined
  if (
    typeof crypto?.createHmac !== 'function' ||
    typeof crypto.createHash !== 'function' ||
    typeof zlib?.inflateSync !== 'function' ||
    typeof zlib.deflateSync !== 'function'
  ) {
    return null
  }
  return Object.freeze({ crypto: crypto as NativeCrypto, zlib: zlib as NativeZlib })
}

/**
 * The runtime's native `crypto` and `zlib`, looked up once per process; `null` means "use the Web
 * APIs". Adapter authors: take it as a default parameter, so a test can pass `null` to run the
 * Web APIs path on Node too.
 */
export const nativeModules: NativeModules | null = lookUp()

import { RestSessionsHttpError } from './errors.ts'
import type { Call } from './http.ts'

/** Where `@sessionbridge/rest-sessions-server` lists its extensions; the original answers 404. */
export const EXTENSIONS_PATH = '/.well-known/rest-sessions'

/** What the server offers beyond the original 2.0.1 protocol. */
export interface ServerExtensions {
  /** `set` merges inside the server atomically: parallel writers of different keys all survive. */
  merge: boolean
  /** `get` and `set` take `newttl`: a session's ttl can change after create. */
  newttl: boolean
  /** `POST /:app/update/:token`: a compare-and-set of one key. */
  update: boolean
  /** `set` takes `guard=1`: it never overwrites a stored value this client could not decode. */
  guard: boolean
}

/** The original server: no extension at all. */
export const ORIGINAL: ServerExtensions = Object.freeze({
  merge: false,
  newttl: false,
  update: false,
  guard: false,
})

export interface ExtensionDiscovery {
  /** The extensions, asking the server once; a failed ask throws and is retried on the next call. */
  get(): Promise<ServerExtensions>
  /** The extensions if already known, else `null`. */
  known(): ServerExtensions | null
}

/**
 * Learns once what the server can do. A server that does not list its extensions (the original
 * answers its HTML 404) is taken for the original: no extension is used or declared.
 */
export function extensionDiscovery(call: Call): ExtensionDiscovery {
  let known: ServerExtensions | null = null
  let asking: Promise<ServerExtensions> | null = null
  const ask = async (): Promise<ServerExtensions> => {
    try {
      const { json } = await call('discover', 'GET', EXTENSIONS_PATH)
      const listed = Array.isArray(json.extensions) ? json.extensions : []
      return Object.freeze({
        merge: listed.includes('merge'),
        newttl: listed.includes('newttl'),
        update: listed.includes('update'),
        guard: listed.includes('guard'),
      })
    } catch (error) {
      if (
        error instanceof RestSessionsHttpError &&
        (error.responseStatus === 404 || error.responseStatus === 405)
      )
        return ORIGINAL
      throw error
    }
  }
  return {
    get() {
      if (known) return Promise.resolve(known)
      asking ??= ask().then(
        (extensions) => {
          known = extensions
          return extensions
        },
        (error: unknown) => {
          asking = null
          throw error
        },
      )
      return asking
    },
    known: () => known,
  }
}

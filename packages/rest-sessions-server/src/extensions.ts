import type { FastifyInstance } from 'fastify'
import { invalidValue } from './errors.ts'
import type { SessionStore } from './store.ts'
import { queryValue, validateApp, validateToken } from './validate.ts'

/** Where the server lists its extensions; the original answers it with its HTML 404. */
export const EXTENSIONS_PATH = '/.well-known/rest-sessions'

/**
 * The protocol extensions this server offers beyond the original 2.0.1:
 * - `merge`: `set` merges inside Redis (parallel writers of different keys all survive);
 * - `newttl`: `get` and `set` take `newttl=SECONDS`, which sets the ttl and the last access;
 * - `update`: `POST /:app/update/:token`, a compare-and-set of one key;
 * - `guard`: `set` takes `guard=1`, which writes nothing and answers `{"undecodable": true}` when
 *   the stored data is not a JSON object or holds a value the sessionbridge client marked as JSON
 *   (`\u0000sbjson:` then JSON text) whose JSON does not parse: an undecodable record is never
 *   overwritten.
 */
export const EXTENSIONS = Object.freeze(['merge', 'newttl', 'update', 'guard'] as const)

/** `newttl` on get and set: a new ttl, or undefined when absent. */
export function newTtl(query: Record<string, unknown>): number | undefined {
  const raw = queryValue(query.newttl)
  if (raw === undefined) return undefined
  const ttl = Number(raw)
  if (!Number.isSafeInteger(ttl) || ttl < 10) throw invalidValue('newttl must be an integer >= 10', 400)
  return ttl
}

type UpdateBody = { key: string; expect: string | null; value: string | number | boolean | null }

/** The update route's body: `{ key, expect?: raw JSON text | null, value: flat value | null }`. */
function validateUpdate(body: unknown): UpdateBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalidValue('the body must be an object {key, expect, value}', 400)
  const { key, expect = null, value = null } = body as Record<string, unknown>
  if (typeof key !== 'string') throw invalidValue('key must be a string', 400)
  if (expect !== null && typeof expect !== 'string')
    throw invalidValue('expect must be the stored JSON text of the key, or null when absent', 400)
  const type = typeof value
  if (value !== null && type !== 'string' && type !== 'number' && type !== 'boolean')
    throw invalidValue(
      'value has a forbidden type. Only strings, numbers, boolean and null are allowed.',
      400,
    )
  if (type === 'number' && !Number.isFinite(value)) throw invalidValue('value must be a finite number', 400)
  return { key, expect, value: value as UpdateBody['value'] }
}

/** The extension routes (not registered in strict mode). */
export function registerExtensions(app: FastifyInstance, store: SessionStore): void {
  app.get(EXTENSIONS_PATH, async () => ({
    server: '@sessionbridge/rest-sessions-server',
    extensions: EXTENSIONS,
  }))

  /**
   * Compare-and-set of one key: writes `value` (`null` deletes) only if the key's stored JSON text
   * is `expect` (`null`: absent). Answers `{}` (no session), `{updated: true, session}`, or
   * `{updated: false, current}` with the stored JSON text (or null) to retry against.
   */
  app.post('/:app/update/:token', async (request) => {
    const params = request.params as Record<string, string | undefined>
    const name = validateApp(params.app)
    const token = validateToken(params.token)
    const { key, expect, value } = validateUpdate(request.body)
    const outcome = await store.update(
      name,
      token,
      key,
      expect,
      value,
      newTtl(request.query as Record<string, unknown>),
    )
    return outcome ?? {}
  })
}

import type { SessionBackend } from '@sessionbridge/core'
import { testBackend } from '@sessionbridge/core/testing'
import { serviceAvailable } from '@sessionbridge/test-services'
import { afterAll, beforeAll, describe } from 'vitest'
import { restSessionsBackend, type Transport } from '../src/index.ts'
import { JSON_MARKER } from '../src/values.ts'
import { startServer } from './helpers.ts'

/**
 * The core conformance suite against a real server, over one transport: our server, or (strict)
 * our server in its compatibility mode, which behaves as the original 2.0.1 server. Each pair has
 * its own test file so the suites (about 30 s each: the protocol's smallest ttl is 10 s) run in
 * parallel.
 */
export async function conformanceOver(
  label: string,
  transport: () => Transport,
  { strict = false } = {},
): Promise<void> {
  const server = strict ? 'the original (strict mode)' : 'our server'
  describe.skipIf(!(await serviceAvailable('redis')))(
    `rest-sessions backend over the ${label} transport against ${server}`,
    () => {
      let ctx: Awaited<ReturnType<typeof startServer>>
      beforeAll(async () => {
        ctx = await startServer({ strict })
      })
      afterAll(async () => {
        await ctx?.stop()
      })

      testBackend({
        name: `rest-sessions (${label}, ${server})`,
        backend: () => restSessionsBackend({ url: ctx.url, app: 'conformance', transport: transport() }),
        teardown: async (backend) => backend.close?.(),
        // The protocol's smallest ttl is 10 s: expiry tests create 2 x 5 s sessions.
        expiryResolutionMs: 5000,
        // The server's body limit is the original's 60000 bytes.
        largeValueBytes: 40_000,
        // corrupt(): another client of the service stores, under key `a` (the key the test saves
        // next), a value marked as JSON whose JSON does not parse. Our server's `guard` extension
        // keeps a save from overwriting it. The original (strict mode) has no such guard: a save
        // there replaces the value, so it gets no corrupt() and the tests report "not applicable".
        ...(strict
          ? {}
          : {
              corrupt: async (_backend: SessionBackend, id: string) => {
                const response = await fetch(`${ctx.url}/conformance/set/${id}`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({ a: `${JSON_MARKER}{not json` }),
                })
                const answer = (await response.json()) as { id?: unknown }
                if (typeof answer.id !== 'string') throw new Error(`corrupt(): no session ${id}`)
              },
            }),
      })
    },
  )
}

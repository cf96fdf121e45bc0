import { CliError, EXIT } from '../errors.ts'
import type { OpenStore } from '../open-store.ts'
import type { CliIo } from '../progress.ts'
import { redact } from '../redact.ts'

/**
 * `sessionbridge inspect ID`: one session's decoded data, expiry and user, secrets redacted. The id
 * is the stored id (for signed cookies, the part before the signature).
 */
export async function inspectCommand(
  store: OpenStore,
  io: CliIo,
  id: string,
  json: boolean,
): Promise<number> {
  const { backend } = store
  const record = backend.idFormat.validate(id) ? await backend.load(id) : null
  if (!record) throw new CliError(`no live session with that id in ${backend.name}`, EXIT.notFound)
  const view = {
    user: record.userId,
    expires: new Date(record.expiresAt).toISOString(),
    data: redact(record.data),
  }
  if (json) {
    io.out(`${JSON.stringify(view, null, 2)}\n`)
  } else {
    io.out(`user:    ${view.user ?? '(anonymous)'}\nexpires: ${view.expires}\ndata:\n`)
    for (const [key, value] of Object.entries(view.data as Record<string, unknown>)) {
      io.out(`  ${key} = ${JSON.stringify(value)}\n`)
    }
  }
  return EXIT.ok
}

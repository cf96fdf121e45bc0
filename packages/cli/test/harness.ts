import type { SessionBackend, SessionRecord } from '@sessionbridge/core'
import { type CliIo, runCli } from '../src/index.ts'

/** A name no other run on this machine uses: tables, databases, key prefixes. */
export const uniqueName = (label: string): string =>
  `sbt_cli_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`

/** What one `sessionbridge` run printed and returned. */
export interface CliRun {
  code: number
  out: string
  err: string
}

/** Runs the command in-process with `env` as its whole environment. */
export async function cli(env: Record<string, string>, ...argv: string[]): Promise<CliRun> {
  let out = ''
  let err = ''
  const io: CliIo = {
    out: (text) => {
      out += text
    },
    err: (text) => {
      err += text
    },
    interactive: false,
  }
  const code = await runCli(argv, { env, io })
  return { code, out, err }
}

const HOUR = 3_600_000

/** A record as the lifecycle writes it; `userId` mirrored into Django's key. */
export function sessionRecord(userId: string | null, expiresAt = Date.now() + HOUR): SessionRecord {
  const data: Record<string, unknown> = { note: 'hello', _auth_user_hash: 'a'.repeat(40) }
  if (userId !== null) data._auth_user_id = userId
  return { data, expiresAt, userId }
}

/** Seeds: three sessions of `u1`, one of `u2`, one anonymous; returns their ids by owner. */
export async function seed(backend: SessionBackend): Promise<{ u1: string[]; u2: string; anon: string }> {
  const make = async (userId: string | null) => {
    const id = await backend.create(backend.idFormat.generate(), sessionRecord(userId))
    if (id === null) throw new Error('id collision while seeding')
    return id
  }
  const u1 = [await make('u1'), await make('u1'), await make('u1')]
  return { u1, u2: await make('u2'), anon: await make(null) }
}

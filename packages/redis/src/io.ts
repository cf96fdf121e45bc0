import type { SessionCodec, SessionLogger } from '@sessionbridge/core'
import { backendCall, backendError } from '@sessionbridge/core/adapter'
import type { RedisCommands } from './commands.ts'
import { isNoScript, type LuaScript } from './scripts.ts'

export const PKG = 'redis'

/** What every part of the Redis backend shares, resolved once from the options. */
export interface RedisContext {
  readonly commands: RedisCommands
  readonly prefix: string
  readonly codec: SessionCodec
  readonly userIndex: boolean
  readonly logger: SessionLogger
  readonly now: () => number
  sessionKey(id: string): string
  indexKey(userId: string): string
  /** Runs one call; any failure becomes a `SessionBackendError` naming the operation. */
  io<T>(operation: string, call: () => Promise<T>): Promise<T>
  script(operation: string, lua: LuaScript, key: string, args: readonly string[]): Promise<unknown>
  /**
   * `script` without its rejection handler, for an `async` caller that catches: it hands the error
   * to `scriptFailed` in its own `catch`, so an answered call costs no promise of `script`'s
   * (`.then(undefined, ...)`: a reaction and a microtask; a load and a save run here).
   */
  sendScript(lua: LuaScript, key: string, args: readonly string[]): Promise<unknown>
  /** What `script` does with a failure: a missing script is loaded and run again, anything else thrown typed. */
  scriptFailed(
    operation: string,
    lua: LuaScript,
    key: string,
    args: readonly string[],
    error: unknown,
  ): Promise<unknown>
  send(operation: string, key: string, args: readonly string[]): Promise<unknown>
}

/** Builds the shared context. */
export function redisContext(
  resolved: Omit<
    RedisContext,
    'sessionKey' | 'indexKey' | 'io' | 'script' | 'sendScript' | 'scriptFailed' | 'send'
  >,
): RedisContext {
  const io = <T>(operation: string, call: () => Promise<T>): Promise<T> => backendCall(PKG, operation, call)
  const { commands, prefix } = resolved
  const scriptFailed = (
    operation: string,
    lua: LuaScript,
    key: string,
    args: readonly string[],
    error: unknown,
  ): Promise<unknown> =>
    isNoScript(error)
      ? io(operation, () => commands.send(key, lua.command(key, args, true)))
      : Promise.reject(backendError(PKG, operation, error))
  return Object.freeze({
    ...resolved,
    sessionKey: (id: string) => `${prefix}${id}`,
    indexKey: (userId: string) => `${prefix}user:{${userId}}`,
    io,
    // One rejection handler for both a missing script and the error's wrapping.
    script: (operation: string, lua: LuaScript, key: string, args: readonly string[]) => {
      let sent: Promise<unknown>
      try {
        sent = commands.send(key, lua.command(key, args))
      } catch (error) {
        sent = Promise.reject(error)
      }
      return sent.then(undefined, (error: unknown) => scriptFailed(operation, lua, key, args, error))
    },
    sendScript: (lua: LuaScript, key: string, args: readonly string[]) =>
      commands.send(key, lua.command(key, args)),
    scriptFailed,
    send: (operation: string, key: string, args: readonly string[]) =>
      io(operation, () => commands.send(key, args)),
  })
}

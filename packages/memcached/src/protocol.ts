import { Buffer } from 'node:buffer'
import { SessionDataError } from '@sessionbridge/core'
import { isValidKey } from './keys.ts'

/** Status codes of meta replies (memcached 1.6 `protocol.txt`, "Meta Commands"). */
export type MetaStatus = 'VA' | 'HD' | 'EN' | 'NF' | 'NS' | 'EX' | 'MN'

/** One reply to a meta command. */
export interface MetaReply {
  kind: 'meta'
  status: MetaStatus
  /** Returned flags by letter: `c` cas, `t` remaining ttl, `O` opaque, `k` key, ... */
  flags: Map<string, string>
  /** The value of a `VA` reply. */
  value: Buffer | null
}

/** A reply that says the server refused the command: `ERROR`, `CLIENT_ERROR ...`, `SERVER_ERROR ...`. */
export interface ErrorReply {
  kind: 'error'
  type: 'ERROR' | 'CLIENT_ERROR' | 'SERVER_ERROR'
  message: string
}

export type Reply = MetaReply | ErrorReply

/** The server sent bytes that are not a meta reply: the connection can no longer be trusted. */
export class MalformedReplyError extends Error {
  override name = 'MalformedReplyError'
}

/** Longest reply header line accepted (a key is at most 250 bytes; flags are short). */
const MAX_LINE_BYTES = 4096
/** Largest value accepted in a `VA` reply; memcached's own ceiling for `-I` is 1 GiB, ours is lower. */
const MAX_REPLY_VALUE_BYTES = 64 * 1024 * 1024
const STATUSES = new Set<string>(['VA', 'HD', 'EN', 'NF', 'NS', 'EX', 'MN'])
const FLAG_TOKEN = /^[a-zA-Z][\x21-\x7e]*$/
const CRLF = Buffer.from('\r\n')

/**
 * Incremental parser of meta replies. Feed it socket chunks; it hands over every complete reply
 * in order and keeps the rest. Anything that is not a well-formed reply throws
 * `MalformedReplyError`, after the replies before it were handed over.
 */
export class ReplyParser {
  #buffer: Buffer = Buffer.alloc(0)
  /** A `VA` header waiting for its value bytes. */
  #pending: { flags: Map<string, string>; size: number } | null = null

  push(chunk: Buffer, onReply: (reply: Reply) => void): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    for (;;) {
      if (this.#pending) {
        const { size, flags } = this.#pending
        if (this.#buffer.length < size + 2) break
        if (this.#buffer[size] !== 0x0d || this.#buffer[size + 1] !== 0x0a) {
          throw new MalformedReplyError('value not followed by CRLF')
        }
        const value = Buffer.from(this.#buffer.subarray(0, size))
        this.#buffer = this.#buffer.subarray(size + 2)
        this.#pending = null
        onReply({ kind: 'meta', status: 'VA', flags, value })
        continue
      }
      const end = this.#buffer.indexOf(CRLF)
      if (end < 0) {
        if (this.#buffer.length > MAX_LINE_BYTES) throw new MalformedReplyError('reply line too long')
        break
      }
      if (end > MAX_LINE_BYTES) throw new MalformedReplyError('reply line too long')
      const line = this.#buffer.subarray(0, end).toString('latin1')
      this.#buffer = this.#buffer.subarray(end + 2)
      const reply = this.#parseLine(line)
      if (reply) onReply(reply)
    }
  }

  /** Bytes received but not yet part of a complete reply. */
  get buffered(): number {
    return this.#buffer.length
  }

  #parseLine(line: string): Reply | null {
    if (line === 'ERROR') return { kind: 'error', type: 'ERROR', message: 'unknown command' }
    for (const type of ['CLIENT_ERROR', 'SERVER_ERROR'] as const) {
      if (line.startsWith(`${type} `))
        return { kind: 'error', type, message: printable(line.slice(type.length + 1)) }
    }
    const tokens = line.split(' ')
    const status = tokens[0]!
    if (!STATUSES.has(status))
      throw new MalformedReplyError(`unexpected reply "${printable(line.slice(0, 40))}"`)
    let rest = tokens.slice(1)
    let size = -1
    if (status === 'VA') {
      const sizeToken = rest[0] ?? ''
      if (!/^\d{1,10}$/.test(sizeToken)) throw new MalformedReplyError('VA reply without a size')
      size = Number(sizeToken)
      if (size > MAX_REPLY_VALUE_BYTES)
        throw new MalformedReplyError(`VA reply of ${size} bytes is too large`)
      rest = rest.slice(1)
    }
    const flags = new Map<string, string>()
    for (const token of rest) {
      if (!FLAG_TOKEN.test(token))
        throw new MalformedReplyError(`bad flag token in "${printable(line.slice(0, 40))}"`)
      flags.set(token[0]!, token.slice(1))
    }
    if (status === 'VA') {
      this.#pending = { flags, size }
      return null
    }
    return { kind: 'meta', status: status as MetaStatus, flags, value: null }
  }
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?')
}

/**
 * Encodes one meta command. The key is checked again here, the last point before the socket,
 * so no caller can put protocol text on the wire. Flags are built by this package from numbers.
 */
export function encodeCommand(
  command: 'mg' | 'ms' | 'md' | 'mn',
  key: string,
  flags: string[],
  value?: Buffer,
): Buffer {
  if (command === 'mn') return Buffer.from('mn\r\n')
  if (!isValidKey(key))
    throw new SessionDataError('memcached', 'invalid key: 1 to 250 printable ASCII characters')
  for (const flag of flags) {
    if (!FLAG_TOKEN.test(flag))
      throw new SessionDataError('memcached', `invalid meta flag "${printable(flag)}"`)
  }
  const tail = flags.length > 0 ? ` ${flags.join(' ')}` : ''
  if (command !== 'ms') return Buffer.from(`${command} ${key}${tail}\r\n`, 'latin1')
  const data = value ?? Buffer.alloc(0)
  return Buffer.concat([Buffer.from(`ms ${key} ${data.length}${tail}\r\n`, 'latin1'), data, CRLF])
}

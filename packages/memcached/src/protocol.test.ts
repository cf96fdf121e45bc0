import { Buffer } from 'node:buffer'
import { SessionDataError } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { exptimeFor, isValidKey } from './keys.ts'
import { encodeCommand, MalformedReplyError, type Reply, ReplyParser } from './protocol.ts'
import { decodeStoredSession, encodeStoredSession } from './record.ts'

const parseAll = (...chunks: string[]) => {
  const parser = new ReplyParser()
  const replies: Reply[] = []
  for (const c of chunks) parser.push(Buffer.from(c, 'latin1'), (r) => replies.push(r))
  return replies
}

describe('ReplyParser', () => {
  it('parses meta replies with flags and values, across arbitrary chunk splits', () => {
    const text =
      'HD O1\r\nVA 5 c42 t60 O2\r\nhe\r\nl\r\nEN O3\r\nMN\r\nSERVER_ERROR object too large for cache\r\n'
    for (let split = 1; split < text.length; split += 3) {
      const replies = parseAll(text.slice(0, split), text.slice(split))
      expect(replies).toHaveLength(5)
      const va = replies[1]!
      expect(va.kind === 'meta' && va.value?.toString()).toBe('he\r\nl')
      expect(va.kind === 'meta' && va.flags.get('c')).toBe('42')
      expect(replies[4]).toMatchObject({ kind: 'error', type: 'SERVER_ERROR' })
    }
  })

  it('hands over the replies before garbage in the same chunk, then throws', () => {
    const parser = new ReplyParser()
    const replies: Reply[] = []
    expect(() =>
      parser.push(Buffer.from('HD O1\r\nEN O2\r\nGARBAGE\r\nHD O3\r\n'), (r) => replies.push(r)),
    ).toThrow(MalformedReplyError)
    expect(replies.map((r) => r.kind === 'meta' && r.status)).toEqual(['HD', 'EN'])
  })

  it('throws MalformedReplyError on garbage, bad sizes, missing CRLF and endless lines', () => {
    for (const bad of [
      'HELLO\r\n',
      'VA x\r\n',
      'VA 2\r\nabcd\r\n',
      'HD \u0001\r\n',
      'x'.repeat(5000),
      'VA 99999999999\r\n',
    ]) {
      expect(() => parseAll(bad), bad.slice(0, 20)).toThrow(MalformedReplyError)
    }
  })
})

describe('keys and commands', () => {
  it('refuses keys that could inject protocol text, before encoding anything', () => {
    for (const key of [
      'abc\r\nflush_all',
      'a b',
      'tab\tkey',
      '',
      'x'.repeat(251),
      'é',
      'nul\u0000',
      'del\u007f',
    ]) {
      expect(isValidKey(key), JSON.stringify(key)).toBe(false)
      expect(() => encodeCommand('mg', key, ['v'])).toThrow(SessionDataError)
    }
    expect(isValidKey('x'.repeat(250))).toBe(true)
    expect(() => encodeCommand('mg', 'ok', ['v\r\nflush_all'])).toThrow(SessionDataError)
  })

  it('frames ms with the byte length of the value', () => {
    const bytes = encodeCommand('ms', 'k', ['T60'], Buffer.from('日本'))
    expect(bytes.toString()).toBe('ms k 6 T60\r\n日本\r\n')
  })

  it('sends expiries over 30 days as absolute unix times', () => {
    const now = 1_700_000_000_000
    expect(exptimeFor(now + 60_000, now)).toBe(60)
    expect(exptimeFor(now + 1, now)).toBe(1)
    expect(exptimeFor(now - 5000, now)).toBe(1)
    expect(exptimeFor(now + 30 * 86_400_000, now)).toBe(30 * 86_400)
    expect(exptimeFor(now + 31 * 86_400_000, now)).toBe((now + 31 * 86_400_000) / 1000)
  })
})

describe('stored value format', () => {
  it('round-trips the user id and payload, and refuses foreign values', () => {
    // The parts: the user id, and the payload where the value says it starts.
    const decoded = (stored: string) => {
      const parts = decodeStoredSession(stored)
      return parts && { userId: parts.userId, payload: stored.slice(parts.payloadStart) }
    }
    const value = encodeStoredSession('42\n"x', '{"a":1}\nmore')
    expect(decoded(value)).toEqual({ userId: '42\n"x', payload: '{"a":1}\nmore' })
    expect(decoded(encodeStoredSession(null, ''))).toEqual({ userId: null, payload: '' })
    // An anonymous session's header, read apart from any other (no JSON.parse), and its near misses.
    expect(decoded('sb1 null\n{"a":1}')).toEqual({ userId: null, payload: '{"a":1}' })
    expect(decoded('sb1  null\n{}')).toEqual({ userId: null, payload: '{}' })
    for (const bad of [
      '',
      '{"a":1}',
      'sb1 42\n{}',
      'sb1 {"x"\n{}',
      'sb1 "unterminated',
      'sb1 nullx\n{}',
      'sb1 null',
    ]) {
      expect(decodeStoredSession(bad), bad).toBeNull()
    }
  })
})

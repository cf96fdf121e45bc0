/**
 * Rewrites `?` placeholders to PostgreSQL's `$1, $2, ...`, leaving `?` inside string literals,
 * quoted identifiers, dollar-quoted bodies and comments alone. PostgreSQL's jsonb operators
 * `?`, `?|` and `?&` therefore cannot be written as operators: use `jsonb_exists()` & co.
 */
export function toDollarPlaceholders(sql: string): string {
  let out = ''
  let n = 0
  let i = 0
  const len = sql.length
  while (i < len) {
    const ch = sql[i]!
    if (ch === '?') {
      out += `$${++n}`
      i++
    } else if (ch === "'" || ch === '"') {
      const end = closingQuote(sql, i, ch, ch === "'" && isEscapeString(sql, i))
      out += sql.slice(i, end)
      i = end
    } else if (ch === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i)
      const end = nl === -1 ? len : nl
      out += sql.slice(i, end)
      i = end
    } else if (ch === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2)
      const end = close === -1 ? len : close + 2
      out += sql.slice(i, end)
      i = end
    } else if (ch === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        const close = sql.indexOf(tag[0], i + tag[0].length)
        const end = close === -1 ? len : close + tag[0].length
        out += sql.slice(i, end)
        i = end
      } else {
        out += ch
        i++
      }
    } else {
      out += ch
      i++
    }
  }
  return out
}

/** `E'...'` strings take backslash escapes. */
function isEscapeString(sql: string, quoteAt: number): boolean {
  const prev = sql[quoteAt - 1]
  return (prev === 'E' || prev === 'e') && !/[A-Za-z0-9_]/.test(sql[quoteAt - 2] ?? '')
}

/** Index just past the quote that closes the one at `start` (a doubled quote is an escaped quote). */
function closingQuote(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1
  while (i < sql.length) {
    const ch = sql[i]
    if (backslashEscapes && ch === '\\') {
      i += 2
    } else if (ch === quote) {
      if (sql[i + 1] === quote) i += 2
      else return i + 1
    } else {
      i++
    }
  }
  return sql.length
}

/** A small memo of rewritten statements: the backends send the same few texts over and over. */
export function cachedRewriter(limit = 500): (sql: string) => string {
  const cache = new Map<string, string>()
  return (sql) => {
    let done = cache.get(sql)
    if (done === undefined) {
      done = toDollarPlaceholders(sql)
      if (cache.size >= limit) cache.delete(cache.keys().next().value!)
      cache.set(sql, done)
    }
    return done
  }
}

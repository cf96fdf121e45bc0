/**
 * Keys whose values are secrets or credentials: shown as `[redacted]` by `inspect`. Django's
 * `_auth_user_hash` is an HMAC of the password hash; CSRF secrets and tokens are bearer values.
 */
const SECRET_KEY_PATTERN = /(hash|token|secret|password|passwd|csrf|api[_-]?key|credential)/i

/** A copy of `data` with secret-looking values replaced, at any depth. */
export function redact(value: unknown, key = ''): unknown {
  if (key && SECRET_KEY_PATTERN.test(key)) return '[redacted]'
  if (Array.isArray(value)) return value.map((item) => redact(item))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = Object.create(null)
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k)
    return out
  }
  return value
}

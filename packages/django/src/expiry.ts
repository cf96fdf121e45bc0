/**
 * `_session_expiry` as Django 4.1+ writes it for `set_expiry(datetime)`: `datetime.isoformat()`,
 * e.g. `2026-12-02T10:09:24.123456+00:00` (USE_TZ=True). Core reads the same form (an absolute
 * expiry); this module writes it, and reads it for the codec.
 */

// What `datetime.fromisoformat` accepts in practice from Django: date, time to whole or fractional
// seconds, then an offset; a naive value (USE_TZ=False) is taken as UTC.
const ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?(Z|[+-]\d\d:?\d\d)?$/

/** Epoch ms of an ISO `_session_expiry`, or `null` when it is not one. */
export function parseDjangoExpiry(text: string): number | null {
  const m = ISO.exec(text)
  if (!m) return null
  const [, y, mo, d, h, mi, s = '00', fraction = '', offset = 'Z'] = m
  const ms = fraction.padEnd(3, '0').slice(0, 3)
  const zone = offset === 'Z' || offset.includes(':') ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`
  const at = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${zone}`)
  return Number.isNaN(at) ? null : at
}

/**
 * The `_session_expiry` value of an absolute expiry, as Django 4.1+ writes it:
 * `session.set('_session_expiry', djangoExpiry(at))`. A codec configured for an older Django
 * writes the seconds left instead, the nearest form that Django reads.
 */
export function djangoExpiry(at: Date): string {
  const time = at.getTime()
  if (!Number.isFinite(time)) throw new RangeError('djangoExpiry() needs a valid Date')
  const iso = at.toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = at.getUTCMilliseconds()
  // isoformat(): microseconds only when non-zero, and the UTC offset as +00:00.
  return `${iso.slice(0, 19)}${ms === 0 ? '' : `.${String(ms * 1000).padStart(6, '0')}`}+00:00`
}

/** Why a request ends the way it does: the one reason the lifecycle acts (or does not). */
export type CommitReason =
  | 'nothing' // no change, no touch due: no backend call, no cookie
  | 'create' // a new session got data: insert it, send a cookie
  | 'save' // an existing session changed: merge the change set
  | 'touch' // nothing changed but the expiry is due to move (or was changed): touch only
  | 'regenerate' // new id for the same data (login): create new, destroy old
  | 'destroy' // logout, or the session became empty: delete it, clear the cookie
  | 'renew' // only the cookie's signature is stale (secret rotation): re-send the cookie
  | 'expired' // the cookie named a session that is gone: clear the cookie
  | 'degraded' // the backend was down and the policy is "continue": never write

/** What the session looked like when the request ended. */
export interface CommitState {
  /** The backend was unavailable and the session ran read-only. */
  degraded: boolean
  /** The request carried a well-formed id. */
  hadId: boolean
  /** The session was loaded (or a load was needed and done) during the request. */
  loaded: boolean
  /** A stored record was found for the id. Meaningful only when `loaded`. */
  exists: boolean
  /** Number of keys set or deleted. */
  changes: number
  /** The data holds no user key after the changes (reserved keys do not count). */
  empty: boolean
  /** `destroy()` was called. */
  destroyed: boolean
  /** `regenerate()` was called. */
  regenerate: boolean
  /** Enough time passed since the last touch for a rolling expiry to move. */
  touchDue: boolean
  /** The per-session max age was changed. */
  expiryChanged: boolean
  /** The cookie was signed with an older secret. */
  staleSignature: boolean
  /**
   * The stored expiry moved during the request (an atomic `update()`), so the browser's cookie must
   * follow it. @default false
   */
  cookieBehind?: boolean
}

/** The backend calls and the cookie one request needs, with the reason. */
export interface CommitPlan {
  reason: CommitReason
  /** Delete the record the request came with. */
  destroyOld: boolean
  /** Insert a new record (under a new id) holding the data. */
  create: boolean
  /** Merge the change set into the existing record (with the new expiry). */
  save: boolean
  /** Move the existing record's expiry without writing data. */
  touch: boolean
  /** `set`: write the cookie; `clear`: delete it; `none`: leave it. */
  cookie: 'set' | 'clear' | 'none'
}

const plan = (reason: CommitReason, parts: Partial<Omit<CommitPlan, 'reason'>> = {}): CommitPlan => ({
  reason,
  destroyOld: false,
  create: false,
  save: false,
  touch: false,
  cookie: 'none',
  ...parts,
})

// The plans that depend on nothing but their reason, made once: this runs at every commit.
const NOTHING: CommitPlan = Object.freeze(plan('nothing'))
const DEGRADED: CommitPlan = Object.freeze(plan('degraded'))
const RENEW: CommitPlan = Object.freeze(plan('renew', { cookie: 'set' }))
const CREATE: CommitPlan = Object.freeze(plan('create', { create: true, cookie: 'set' }))
const EXPIRED: CommitPlan = Object.freeze(plan('expired', { cookie: 'clear' }))
const EMPTIED: CommitPlan = Object.freeze(plan('destroy', { destroyOld: true, cookie: 'clear' }))
const REGENERATE: CommitPlan = Object.freeze(
  plan('regenerate', { destroyOld: true, create: true, cookie: 'set' }),
)
const SAVE: CommitPlan = Object.freeze(plan('save', { save: true, cookie: 'set' }))
const TOUCH: CommitPlan = Object.freeze(plan('touch', { touch: true, cookie: 'set' }))

/**
 * The commit decision, as one pure function: every request ends with exactly one reason, and the
 * backend calls that reason needs and no others. The round-trip budget follows from it: a request
 * that never touched its session costs nothing.
 */
export function decideCommit(s: CommitState): CommitPlan {
  if (s.degraded) return DEGRADED

  if (s.destroyed) {
    // Logout followed by new data (e.g. a flash message) starts a fresh session.
    if (!s.empty) return plan('destroy', { destroyOld: s.hadId, create: true, cookie: 'set' })
    return plan('destroy', { destroyOld: s.hadId, cookie: s.hadId ? 'clear' : 'none' })
  }

  if (!s.loaded) {
    // Nothing was read or written, so nothing is known to be due; at most the signature is stale.
    return s.staleSignature ? RENEW : NOTHING
  }

  if (!s.exists) {
    if (!s.empty) return CREATE
    return s.hadId ? EXPIRED : NOTHING
  }

  if (s.empty && (s.changes > 0 || s.regenerate)) return EMPTIED
  if (s.regenerate) return REGENERATE
  if (s.changes > 0) return SAVE
  if (s.touchDue || s.expiryChanged) return TOUCH
  if (s.staleSignature || s.cookieBehind) return RENEW
  return NOTHING
}

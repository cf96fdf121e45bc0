import { describe, expect, it } from 'vitest'
import { type CommitState, decideCommit } from '../src/commit.ts'

const base: CommitState = {
  degraded: false,
  hadId: true,
  loaded: true,
  exists: true,
  changes: 0,
  empty: false,
  destroyed: false,
  regenerate: false,
  touchDue: false,
  expiryChanged: false,
  staleSignature: false,
}
const decide = (patch: Partial<CommitState>) => decideCommit({ ...base, ...patch })

describe('decideCommit', () => {
  it.each([
    ['untouched request without cookie', { hadId: false, loaded: false, exists: false }, 'nothing', []],
    ['untouched request with cookie', { loaded: false }, 'nothing', []],
    ['read, nothing due', {}, 'nothing', []],
    ['read, touch due', { touchDue: true }, 'touch', ['touch']],
    ['write to existing session', { changes: 2 }, 'save', ['save']],
    ['write with touch due saves once', { changes: 1, touchDue: true }, 'save', ['save']],
    ['first write of a new session', { hadId: false, exists: false, changes: 1 }, 'create', ['create']],
    ['new session that stayed empty', { hadId: false, exists: false, empty: true }, 'nothing', []],
    ['cookie for a vanished session', { exists: false, empty: true }, 'expired', []],
    ['login', { regenerate: true, changes: 1 }, 'regenerate', ['create', 'destroyOld']],
    ['logout', { destroyed: true, empty: true }, 'destroy', ['destroyOld']],
    ['logout then a flash message', { destroyed: true, empty: false }, 'destroy', ['create', 'destroyOld']],
    ['cleared session', { changes: 3, empty: true }, 'destroy', ['destroyOld']],
    ['old secret, untouched', { loaded: false, staleSignature: true }, 'renew', []],
    ['old secret, read', { staleSignature: true }, 'renew', []],
    ['an update moved the stored expiry', { cookieBehind: true }, 'renew', []],
    ['an update moved it, then a write', { cookieBehind: true, changes: 1 }, 'save', ['save']],
    ['backend down', { degraded: true, changes: 4 }, 'degraded', []],
  ] as const)('%s -> %s', (_title, patch, reason, actions) => {
    const plan = decideCommit({ ...base, ...patch })
    expect(plan.reason).toBe(reason)
    const done = (['create', 'save', 'touch', 'destroyOld'] as const).filter((a) => plan[a])
    expect(done.sort()).toEqual([...actions].sort())
  })

  it('sets the cookie exactly when the id, the expiry or the signature changes', () => {
    expect(decide({}).cookie).toBe('none')
    expect(decide({ touchDue: true }).cookie).toBe('set')
    expect(decide({ changes: 1 }).cookie).toBe('set')
    expect(decide({ staleSignature: true }).cookie).toBe('set')
    expect(decide({ cookieBehind: true }).cookie).toBe('set')
    expect(decide({ destroyed: true, empty: true }).cookie).toBe('clear')
    expect(decide({ destroyed: true, empty: true, hadId: false }).cookie).toBe('none')
    expect(decide({ degraded: true, staleSignature: true }).cookie).toBe('none')
  })
})

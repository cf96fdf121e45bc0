import {
  loginThrottle,
  memoryAttemptStore,
  memoryBackend,
  memoryTicketStore,
  memoryUserSource,
  type SessionBackend,
  SessionBackendError,
} from '@sessionbridge/core'
import { sqliteClient } from '@sessionbridge/sql'
import Database from 'better-sqlite3'
import { exampleCsrf } from '../src/security.ts'
import type { ExampleStack } from '../src/stack.ts'

/** Text of every injected backend failure: a response body containing it leaks backend details. */
export const BACKEND_SECRET = 'FUZZ-BACKEND-DETAIL at 10.255.0.7:5432 (database is locked)'

export const FUZZ_USERS = {
  demo: { username: 'demo', password: 'demo-password' },
  auditor: { username: 'auditor', password: 'auditor-password' },
  inactive: { username: 'inactive', password: 'inactive-password' },
} as const

/** A stack whose backend can be told to fail every call, with a detailed message. */
export interface FuzzStack extends ExampleStack {
  /** While `true`, every backend call throws a `SessionBackendError` carrying `BACKEND_SECRET`. */
  failing: boolean
}

/** Wraps `inner` so each call throws while `state.failing` is set. */
function faultyBackend(inner: SessionBackend, state: { failing: boolean }): SessionBackend {
  const guard =
    <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (state.failing) throw new SessionBackendError('fuzz', operation, BACKEND_SECRET)
      return fn(...args)
    }
  return {
    ...inner,
    name: 'fuzz',
    load: guard('load', (id) => inner.load(id)),
    create: guard('create', (id, record) => inner.create(id, record)),
    save: guard('save', (id, changes, record) => inner.save(id, changes, record)),
    touch: guard('touch', (id, expiresAt) => inner.touch(id, expiresAt)),
    destroy: guard('destroy', (id) => inner.destroy(id)),
    destroyUser: guard('destroyUser', (userId) => inner.destroyUser!(userId)),
    listUser: guard('listUser', (userId) => inner.listUser!(userId)),
    clearExpired: guard('clearExpired', () => inner.clearExpired!()),
  }
}

/**
 * The example's stack for the fuzz: memory sessions (behind a fault switch), memory users with
 * cheap hashes (10,000 logins must not take 10,000 x 260,000 PBKDF2 rounds), memory tickets. The
 * apps, routes and contract are the example's own.
 */
export async function openFuzzStack(): Promise<FuzzStack> {
  const users = memoryUserSource({
    iterations: 100,
    users: [
      { id: 1, ...FUZZ_USERS.demo },
      { id: 2, ...FUZZ_USERS.auditor, permissions: ['auth.view_user'] },
      { id: 3, ...FUZZ_USERS.inactive, isActive: false },
    ],
  })
  const db = new Database(':memory:')
  const state = { failing: false }
  const stack = {
    backend: faultyBackend(memoryBackend({ maxEntries: 50_000 }), state),
    users,
    tickets: memoryTicketStore(),
    // The real throttle, with limits the fuzz's thousands of wrong passwords never reach: the
    // setup logins of the "logged-in" cases must keep working.
    throttle: loginThrottle({
      store: memoryAttemptStore(),
      perUsername: { limit: 1_000_000, windowMs: 60_000 },
      perAddress: { limit: 1_000_000, windowMs: 60_000 },
    }),
    csrf: exampleCsrf({ djangoVersion: '3.2' }),
    database: { client: sqliteClient(db), origin: 'fuzz', close: async () => void db.close() },
    label: 'memory (fuzz)',
    sharedWithDjango: false,
    sessionTimeout: 1000,
    cookieSecure: false,
    trustProxy: false,
    close: async () => void db.close(),
    get failing() {
      return state.failing
    },
    set failing(value: boolean) {
      state.failing = value
    },
  }
  return stack
}

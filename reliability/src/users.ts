import { type MemoryUserSource, memoryUserSource } from '@sessionbridge/core'

/** The password every fixture user has. */
export const PASSWORD = 'correct horse battery staple'

/**
 * A small in-memory user source. PBKDF2 iterations are kept low so that thousands of fuzz cases
 * stay fast; the timing test passes its own, realistic count.
 */
export function fixtureUsers(iterations = 10): MemoryUserSource {
  return memoryUserSource({
    iterations,
    secret: 'reliability-fixture-secret',
    users: [
      { id: 1, username: 'alice', email: 'alice@example.com', password: PASSWORD, permissions: ['app.view'] },
      { id: 2, username: 'bob', email: 'bob@example.com', password: PASSWORD },
      { id: 3, username: 'carol', password: PASSWORD, isActive: false },
    ],
  })
}

/** `Authorization: Basic` for `username:password`, UTF-8. */
export const basic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`

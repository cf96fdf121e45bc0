import { describe, expect, it } from 'vitest'
import { memoryUserSource } from '../src/index.ts'

const seeds = [
  { id: 1, username: 'alice', email: 'Alice@Example.test', password: 'pw1', permissions: ['app.view'] },
  { id: 2, username: 'root', email: 'shared@example.test', password: 'pw2', isSuperuser: true },
  {
    id: 3,
    username: 'gone',
    email: 'shared@example.test',
    password: 'pw3',
    isActive: false,
    isSuperuser: true,
  },
]

describe('memoryUserSource', () => {
  it("hashes in Django's pbkdf2_sha256 format", async () => {
    const users = memoryUserSource({ users: seeds, iterations: 1000 })
    const alice = (await users.getById('1'))!
    expect(alice.passwordHash).toMatch(/^pbkdf2_sha256\$1000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/)
    // A known vector, computed with Python's hashlib.pbkdf2_hmac('sha256', b'secret', b'saltsalt', 1000).
    expect(await users.hashPassword('secret', 'saltsalt')).toBe(
      'pbkdf2_sha256$1000$saltsalt$hgR9HsqtKupWxpnv8y99TrPDajTT/9PcSTlNafpdLXQ=',
    )
  })

  it('verifies passwords, refuses wrong ones and unknown users', async () => {
    const users = memoryUserSource({ users: seeds, iterations: 1000 })
    const alice = (await users.getById('1'))!
    expect(await users.verifyPassword(alice, 'pw1')).toBe(true)
    expect(await users.verifyPassword(alice, 'pw2')).toBe(false)
    expect(await users.verifyPassword(null, 'pw1')).toBe(false)
    const django = await users.add({
      id: 9,
      username: 'dj',
      passwordHash: 'pbkdf2_sha256$1000$saltsalt$hgR9HsqtKupWxpnv8y99TrPDajTT/9PcSTlNafpdLXQ=',
    })
    expect(await users.verifyPassword(django, 'secret')).toBe(true)
    const noPassword = await users.add({ id: 10, username: 'nopw' })
    expect(await users.verifyPassword(noPassword, '')).toBe(false)
  })

  it('finds by username, or by a unique email case-insensitively', async () => {
    const users = memoryUserSource({ users: seeds, iterations: 1000 })
    expect((await users.findByLogin('alice'))?.id).toBe(1)
    expect((await users.findByLogin('alice@example.TEST'))?.id).toBe(1)
    expect(await users.findByLogin('shared@example.test')).toBeNull()
    expect(await users.findByLogin('')).toBeNull()
  })

  it('grants permissions to holders and active superusers only', async () => {
    const users = memoryUserSource({ users: seeds, iterations: 1000 })
    const [alice, root, gone] = await Promise.all(['1', '2', '3'].map((id) => users.getById(id)))
    expect(await users.hasPerm(alice!, 'app.view')).toBe(true)
    expect(await users.hasPerm(alice!, 'app.change')).toBe(false)
    expect(await users.hasPerm(root!, 'anything.at_all')).toBe(true)
    expect(await users.hasPerm(gone!, 'app.view')).toBe(false)
  })

  it('changes the session hash when the password changes', async () => {
    const users = memoryUserSource({ users: seeds, iterations: 1000, secret: 'fixed' })
    const before = await users.sessionHash!((await users.getById('1'))!)
    expect(before).toMatch(/^[0-9a-f]{64}$/)
    const updated = await users.setPassword(1, 'new')
    expect(await users.sessionHash!(updated)).not.toBe(before)
    expect(await users.verifyPassword(updated, 'new')).toBe(true)
  })
})

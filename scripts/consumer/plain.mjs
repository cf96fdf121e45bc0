// The plain-JavaScript consumer (ESM, no TypeScript anywhere): Fastify with the SQLite backend,
// driven over HTTP by itself. Exits non-zero on the first wrong answer.
import assert from 'node:assert/strict'
import { memoryUserSource } from '@sessionbridge/core'
import { sessionPlugin } from '@sessionbridge/fastify'
import { migrate, sqlBackend, sqliteClient } from '@sessionbridge/sql'
import Database from 'better-sqlite3'
import Fastify from 'fastify'

const client = sqliteClient(new Database(':memory:'))
await migrate(client, { layout: 'native' })
const users = memoryUserSource({ users: [{ id: 7, username: 'bob', password: 'bob-password' }] })
const app = Fastify()
await app.register(sessionPlugin, { backend: sqlBackend({ client, layout: 'native' }), users })
app.get('/visits', async (request) => {
  const visits = ((await request.session.get('visits')) ?? 0) + 1
  request.session.set('visits', visits)
  return { visits }
})
app.post('/login', async (request) => {
  await request.login(await users.findByLogin('bob'))
  return { user: (await request.user)?.username }
})
const url = await app.listen({ port: 0, host: '127.0.0.1' })
try {
  const first = await fetch(`${url}/visits`)
  assert.deepEqual(await first.json(), { visits: 1 })
  const cookie = first.headers.get('set-cookie')?.split(';')[0]
  assert.match(cookie ?? '', /^sessionid=/)
  const second = await fetch(`${url}/visits`, { headers: { cookie } })
  assert.deepEqual(await second.json(), { visits: 2 })
  const login = await fetch(`${url}/login`, { method: 'POST', headers: { cookie } })
  assert.deepEqual(await login.json(), { user: 'bob' })
  assert.notEqual(login.headers.get('set-cookie')?.split(';')[0], cookie, 'login issues a new session id')
  console.log('plain ESM consumer: ok')
} finally {
  await app.close()
}

// The CommonJS consumer: the packages are ESM-only, and Node 20.19+ require()s them (require(esm)).
// Koa with the memory backend, driven over HTTP by itself; exits non-zero on a wrong answer.
const assert = require('node:assert/strict')
const Koa = require('koa')
const { memoryBackend } = require('@sessionbridge/core')
const { sessionMiddleware } = require('@sessionbridge/koa')

const app = new Koa()
app.use(sessionMiddleware({ backend: memoryBackend() }))
app.use(async (ctx) => {
  const visits = ((await ctx.session.get('visits')) ?? 0) + 1
  ctx.session.set('visits', visits)
  ctx.body = { visits }
})
const server = app.listen(0, '127.0.0.1', async () => {
  try {
    const url = `http://127.0.0.1:${server.address().port}/`
    const first = await fetch(url)
    assert.deepEqual(await first.json(), { visits: 1 })
    const cookie = first.headers.get('set-cookie').split(';')[0]
    const second = await fetch(url, { headers: { cookie } })
    assert.deepEqual(await second.json(), { visits: 2 })
    console.log('plain CommonJS consumer: ok')
  } catch (error) {
    console.error(error)
    process.exitCode = 1
  } finally {
    server.close()
  }
})

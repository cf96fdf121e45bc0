import { fileURLToPath } from 'node:url'
import { EdgeVM } from '@edge-runtime/vm'
import { basicHeader } from '@sessionbridge/core/testing/http'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'

interface EdgeAnswer {
  status: number
  setCookie: string[]
  body: string
}

let vm: EdgeVM
let bundle: string

beforeAll(async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./edge-entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    // "neutral": no Node built-ins and no Node-only package entry points can be resolved.
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['worker', 'browser', 'import', 'default'],
    target: 'es2022',
    logLevel: 'silent',
  })
  bundle = result.outputFiles[0]!.text
  vm = new EdgeVM()
  vm.evaluate(bundle)
})

const send = async (
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<EdgeAnswer> => {
  const json: string = await vm.evaluate(
    `handleJson(${JSON.stringify(method)}, ${JSON.stringify(`https://edge.test${path}`)}, ${JSON.stringify(headers)})`,
  )
  return JSON.parse(json) as EdgeAnswer
}
const cookieOf = (answer: EdgeAnswer) => answer.setCookie[0]?.split(';')[0] ?? ''

describe('hono middleware in an edge runtime (EdgeVM, Web APIs only)', () => {
  it('runs in a context without Node built-ins', async () => {
    expect(bundle).not.toMatch(/require\(["']node:|from ["']node:/)
    expect(await vm.evaluate('typeof require')).toBe('undefined')
    expect(await vm.evaluate("typeof process === 'undefined' || typeof process.binding !== 'function'")).toBe(
      true,
    )
  })

  it('creates, reads and rotates a signed session; guards and logs in over Basic', async () => {
    const write = await send('POST', '/write?key=a&value=edge')
    expect(write.status).toBe(200)
    // The request URL is https: the cookie is Secure without any proxy header.
    expect(write.setCookie[0]).toMatch(
      /^sessionid=[a-z0-9]{32}\.[A-Za-z0-9_-]{43}; .*HttpOnly; Secure; SameSite=Lax$/,
    )
    const cookie = cookieOf(write)
    expect(JSON.parse((await send('GET', '/read?key=a', { cookie })).body)).toEqual({ value: 'edge' })

    const anonymous = await send('GET', '/private')
    expect(anonymous.status).toBe(401)
    const login = await send('GET', '/private-login', {
      cookie,
      authorization: basicHeader('alice', 'edge:password'),
    })
    expect(login.status).toBe(200)
    const loggedIn = cookieOf(login)
    expect(loggedIn).not.toBe(cookie)
    expect(JSON.parse((await send('GET', '/whoami', { cookie: loggedIn })).body)).toEqual({ user: 'alice' })
    expect(JSON.parse((await send('GET', '/read?key=a', { cookie: loggedIn })).body)).toEqual({
      value: 'edge',
    })
    const ticket = await send('POST', '/ticket', { cookie: loggedIn })
    expect(JSON.parse(ticket.body)).toMatchObject({ status: 'ok' })
  })
})

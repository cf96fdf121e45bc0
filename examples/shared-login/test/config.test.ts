import { SessionConfigError } from '@sessionbridge/core'
import { describe, expect, it } from 'vitest'
import { DEFAULT_DATABASE_PATH, DEV_SECRET_KEY, loadConfig, sqlitePath } from '../src/config.ts'

describe('loadConfig', () => {
  it('runs on the embedded default with no environment at all', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      backend: 'sql',
      databaseUrl: `sqlite:${DEFAULT_DATABASE_PATH}`,
      embeddedDatabase: true,
      secretKey: DEV_SECRET_KEY,
      secretKeyIsDefault: true,
      cookieName: 'sessionid',
      djangoVersion: '3.2',
      cookieSecure: false,
      trustProxy: false,
      allowedHosts: ['127.0.0.1', 'localhost', '[::1]'],
      ports: { fastify: 3001, koa: 3002, hono: 3003, django: 3004, express: 3005 },
    })
  })

  it('reads every variable', () => {
    const config = loadConfig({
      SESSION_BACKEND: 'memcached',
      DATABASE_URL: 'postgres://u:p@db/app',
      MEMCACHED_SERVERS: 'a:1, b:2',
      SECRET_KEY: 's',
      SESSION_COOKIE_NAME: 'sid',
      FASTIFY_PORT: '0',
      DJANGO_PORT: '8000',
      DJANGO_VERSION: '5.2',
      SECRET_KEY_FALLBACKS: 'old-1,old-2',
      SESSION_COOKIE_SECURE: 'true',
      TRUST_PROXY: '1',
      ALLOWED_HOSTS: 'example.com, .example.org',
    })
    expect(config).toMatchObject({
      backend: 'memcached',
      embeddedDatabase: false,
      memcachedServers: ['a:1', 'b:2'],
      secretKeyIsDefault: false,
      cookieName: 'sid',
      djangoVersion: '5.2',
      secretKeyFallbacks: ['old-1', 'old-2'],
      cookieSecure: true,
      trustProxy: true,
      allowedHosts: ['example.com', '.example.org'],
      ports: { fastify: 0, koa: 3002, django: 8000 },
    })
  })

  it.each([
    [{ SESSION_BACKEND: 'files' }, 'SESSION_BACKEND'],
    [{ DATABASE_URL: 'oracle://x' }, 'DATABASE_URL'],
    [{ KOA_PORT: '70000' }, 'KOA_PORT'],
    [{ HONO_PORT: 'abc' }, 'HONO_PORT'],
    [{ SESSION_COOKIE_NAME: 'a b' }, 'SESSION_COOKIE_NAME'],
    [{ SESSION_BACKEND: 'rest-sessions' }, 'SESSION_URL'],
    [{ DJANGO_VERSION: '4.0' }, 'DJANGO_VERSION'],
    [{ SECRET_KEY_FALLBACKS: 'old' }, 'SECRET_KEY_FALLBACKS'],
    [{ SESSION_COOKIE_SECURE: 'maybe' }, 'SESSION_COOKIE_SECURE'],
    [{ TRUST_PROXY: '2' }, 'TRUST_PROXY'],
  ])('refuses %o at startup, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(SessionConfigError)
    expect(() => loadConfig(env)).toThrow(`"${variable}"`)
  })

  it('reads sqlite: URLs like Django settings do', () => {
    expect(sqlitePath('sqlite:db.sqlite3')).toBe('db.sqlite3')
    expect(sqlitePath('sqlite:///tmp/x.db')).toBe('/tmp/x.db')
    expect(sqlitePath('postgres://x')).toBeNull()
  })
})

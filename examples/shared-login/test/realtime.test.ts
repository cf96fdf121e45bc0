import { join } from 'node:path'
import { memoryBackend, memoryTicketStore, memoryUserSource } from '@sessionbridge/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPageApp } from '../../realtime/src/page.ts'
import { createRealtimeServer, type RealtimeServer } from '../../realtime/src/ws-server.ts'
import { ARTIFACTS, browserAvailable, launchBrowser } from './chromium.ts'

const browserHere = browserAvailable()

describe('the realtime example', () => {
  let realtime: RealtimeServer
  let page: ReturnType<typeof createPageApp>
  let base: string

  beforeAll(async () => {
    // One store for both: the page issues tickets, the websocket server consumes them.
    const tickets = memoryTicketStore()
    realtime = await createRealtimeServer({ store: tickets })
    page = createPageApp({
      backend: memoryBackend(),
      users: memoryUserSource({ users: [{ id: 7, username: 'Zoë <demo>', password: 'demo-password' }] }),
      tickets,
      wsUrl: () => realtime.url,
    })
    base = await page.listen({ port: 0, host: '127.0.0.1' })
  })
  afterAll(async () => {
    await page?.close()
    await realtime?.close()
  })

  it('refuses a ticket to an anonymous visitor', async () => {
    const answer = await fetch(`${base}/ticket`, { method: 'POST' })
    expect(answer.status).toBe(401)
    expect(await answer.json()).toMatchObject({ status: 'error' })
  })

  it.skipIf(!browserHere)(
    'greets the logged-in user by name over the websocket, in a real browser',
    async () => {
      const browser = await launchBrowser()
      try {
        const tab = await browser.context.newPage()
        await tab.goto(`${base}/`)
        await tab.fill('input[name=username]', 'Zoë <demo>')
        await tab.fill('input[name=password]', 'demo-password')
        await Promise.all([tab.waitForURL(`${base}/`), tab.click('button:text("Log in")')])
        await expect.poll(() => tab.locator('#greeting').textContent()).toBe('Hello, Zoë <demo>!')
        await tab.fill('#text', 'hi there')
        await tab.click('button:text("Send")')
        await expect.poll(() => tab.locator('#log').textContent()).toContain('Zoë <demo> said: hi there')
        await tab.screenshot({ path: join(ARTIFACTS, 'realtime.png') })
      } finally {
        await browser.close()
      }
    },
  )
})

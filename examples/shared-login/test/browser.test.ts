import { join } from 'node:path'
import { serviceAvailable } from '@sessionbridge/test-services'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, browserAvailable, launchBrowser } from './chromium.ts'
import { startTestExample, type TestExample } from './harness.ts'

const browserHere = browserAvailable()

/** The apps' screenshots side by side, in one picture (the README shows it). */
async function saveOverview(page: Page, shots: Buffer[], path: string): Promise<void> {
  const images = shots.map((png) => `<img src="data:image/png;base64,${png.toString('base64')}">`).join('')
  await page.setViewportSize({ width: 1200, height: 200 })
  await page.setContent(
    `<body style="margin:0;padding:4px;background:#ccc;display:grid;grid-template-columns:1fr 1fr;gap:4px">
    <style>img{width:100%;display:block;border:1px solid #999}</style>${images}</body>`,
  )
  await page.screenshot({ path, fullPage: true })
}
const djangoHere = await serviceAvailable('django')

describe.skipIf(!browserHere)('shared login in a real browser (chromium)', () => {
  let ex: TestExample
  let browser: Awaited<ReturnType<typeof launchBrowser>>

  beforeAll(async () => {
    ex = await startTestExample({ SESSION_BACKEND: 'sql' })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await ex?.cleanup()
  })

  it('logs in through the form on one app and is the same user on every other app', async () => {
    expect(ex.apps.map(([name]) => name)).toContain(djangoHere ? 'Django' : 'Hono')
    const page = await browser.context.newPage()
    const [first, ...others] = ex.apps
    await page.goto(`${first![1]}/`)
    await expect.poll(() => page.locator('.user').textContent()).toBe('Not logged in.')

    await page.fill('input[name=username]', 'demo')
    await page.fill('input[name=password]', 'demo-password')
    await Promise.all([page.waitForURL(`${first![1]}/`), page.click('button:text("Log in")')])
    expect(await page.locator('#username').textContent()).toBe('demo')
    const shots = [
      await page.screenshot({ path: join(ARTIFACTS, `shared-login-${first![0].toLowerCase()}.png`) }),
    ]

    let count = 0
    for (const [name, url] of others) {
      await page.goto(`${url}/`)
      expect(await page.locator('#app').textContent(), name).toBe(name)
      expect(await page.locator('#username').textContent(), name).toBe('demo')
      // The counter button on this app adds to the one shared session.
      await Promise.all([page.waitForURL(`${url}/`), page.click('button:text("+1")')])
      count++
      expect(await page.locator('#count').textContent(), name).toBe(String(count))
      shots.push(await page.screenshot({ path: join(ARTIFACTS, `shared-login-${name.toLowerCase()}.png`) }))
    }

    // Log out on the last app: the first one sees nobody.
    await Promise.all([page.waitForURL(`${others.at(-1)![1]}/`), page.click('button:text("Log out")')])
    await page.goto(`${first![1]}/`)
    expect(await page.locator('.user').textContent()).toBe('Not logged in.')
    await saveOverview(page, shots, join(ARTIFACTS, 'shared-login.png'))
    await page.close()
  })
})

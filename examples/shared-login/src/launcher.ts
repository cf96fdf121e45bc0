import type { ExampleApp, ExampleAppOptions } from './app.ts'
import type { AppName, ExampleConfig } from './config.ts'
import { type DjangoServer, djangoInstalled, PYTHON, startDjango } from './django.ts'
import { createExpressApp } from './express.ts'
import { createFastifyApp } from './fastify.ts'
import { createHonoApp } from './hono.ts'
import { createKoaApp } from './koa.ts'
import { type ExampleStack, openStack } from './stack.ts'

/** The running example: every app's URL, the shared stack, and one way to stop it all. */
export interface RunningExample {
  stack: ExampleStack
  /** `[name, url]` of every running app, Django last when it runs. */
  apps: Array<readonly [string, string]>
  urls: Partial<Record<AppName, string>>
  /** Why Django is not running, or `null` when it is. */
  djangoSkipped: string | null
  stop(): Promise<void>
}

/** Options of `startExample`. */
export interface StartExampleOptions {
  /** Start Django too where it is installed and can share the sessions. @default true */
  django?: boolean
}

/** Every Node app of the example, in start order; the fuzz suite drives each one. Add an app here. */
export const NODE_APPS: ReadonlyArray<readonly [AppName, (options: ExampleAppOptions) => ExampleApp]> = [
  ['fastify', createFastifyApp],
  ['koa', createKoaApp],
  ['hono', createHonoApp],
  ['express', createExpressApp],
]

/** Opens the stack and starts the Node apps and, where possible, Django. */
export async function startExample(
  config: ExampleConfig,
  options: StartExampleOptions = {},
): Promise<RunningExample> {
  const stack = await openStack(config)
  const apps: Array<readonly [string, string]> = []
  const running: ExampleApp[] = []
  let django: DjangoServer | null = null
  const urls: Partial<Record<AppName, string>> = {}
  const stop = async () => {
    await Promise.allSettled([...running.map((app) => app.close()), django?.stop()])
    await stack.close()
  }
  try {
    for (const [key, factory] of NODE_APPS) {
      const app = factory({
        stack,
        cookieName: config.cookieName,
        links: () => apps.filter(([name]) => name !== app.name),
      })
      running.push(app)
      const url = await app.listen(config.ports[key], config.host)
      apps.push([app.name, url])
      urls[key] = url
    }
    let djangoSkipped: string | null = null
    if (options.django === false) djangoSkipped = 'not requested'
    else if (!stack.sharedWithDjango)
      djangoSkipped = `Django cannot read ${config.backend} sessions (only sql)`
    else if (!(await djangoInstalled(config.databaseUrl, PYTHON, config.djangoVersion))) {
      djangoSkipped = `${PYTHON} cannot import Django ${config.djangoVersion}, gunicorn (Debian: gunicorn) or the driver for this database`
    } else {
      django = await startDjango(config, { links: [...apps] })
      apps.push(['Django', django.url])
      urls.django = django.url
    }
    return { stack, apps, urls, djangoSkipped, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

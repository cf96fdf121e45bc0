import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ExampleConfig } from './config.ts'

const run = promisify(execFile)

/** The Django project of this example. */
export const DJANGO_DIR = fileURLToPath(new URL('../django/', import.meta.url))
/** Debian's Python with python3-django. */
export const PYTHON = process.env.DJANGO_PYTHON ?? '/usr/bin/python3'

/**
 * Where a Django release line lives: the system's python3-django for 3.2, the folders that
 * `scripts/django-lts.sh` fills for 4.2 and 5.2 (`$SB_DJANGO_CACHE`), put first on `PYTHONPATH`.
 */
export function djangoPath(version: ExampleConfig['djangoVersion']): string {
  if (version === '3.2') return ''
  const cache = process.env.SB_DJANGO_CACHE || '/var/cache/sessionbridge-django'
  return `${cache}/${version}/usr/lib/python3/dist-packages`
}

/**
 * Whether `PYTHON` can import Django of `version`, gunicorn (which serves it) and, for
 * `databaseUrl`, its database driver (psycopg2 for PostgreSQL, MySQLdb for MySQL; SQLite is built in).
 */
export async function djangoInstalled(
  databaseUrl = 'sqlite:',
  python = PYTHON,
  version: ExampleConfig['djangoVersion'] = '3.2',
): Promise<boolean> {
  const driver = databaseUrl.startsWith('postgres')
    ? ', psycopg2'
    : databaseUrl.startsWith('mysql')
      ? ', MySQLdb'
      : ''
  const check = `import django, gunicorn${driver}; assert django.get_version().startswith('${version}.')`
  try {
    await run(python, ['-c', check], {
      timeout: 20_000,
      env: { ...process.env, PYTHONPATH: djangoPath(version) },
    })
    return true
  } catch {
    return false
  }
}

/** The environment Django reads: the same variables as the Node apps. */
function djangoEnv(config: ExampleConfig, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: djangoPath(config.djangoVersion),
    DJANGO_VERSION: config.djangoVersion,
    SECRET_KEY_FALLBACKS: config.secretKeyFallbacks.join(','),
    DATABASE_URL: config.databaseUrl,
    SECRET_KEY: config.secretKey,
    SESSION_COOKIE_NAME: config.cookieName,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  }
}

/** Runs `manage.py <args>` (migrate, seed_demo, set_password ...); rejects with Django's output on failure. */
export async function manage(config: ExampleConfig, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(PYTHON, ['manage.py', ...args], {
      cwd: DJANGO_DIR,
      env: djangoEnv(config),
      timeout: 120_000,
    })
    return stdout
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? ''
    throw new Error(
      `manage.py ${args.join(' ')} failed: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
      {
        cause: error,
      },
    )
  }
}

/** A running Django server. */
export interface DjangoServer {
  url: string
  stop(): Promise<void>
}

/** Options of `startDjango`. */
export interface StartDjangoOptions {
  /** The other apps, linked from Django's page: `[name, url]`. @default [] */
  links?: ReadonlyArray<readonly [string, string]>
  /** Milliseconds to wait for "listening". @default 30000 */
  startTimeout?: number
}

/** Every Django server this process started and has not seen exit: killed when the process exits. */
const children = new Set<ChildProcess>()
process.once('exit', () => {
  // The last chance, synchronous: whatever ended this process (an uncaught error included), the
  // servers it started go with it. (A SIGKILL skips this; serve.py then notices by itself.)
  for (const child of children) child.kill('SIGTERM')
})

/** Starts `django/serve.py` (gunicorn) on `config.ports.django` and waits until it listens. */
export function startDjango(config: ExampleConfig, options: StartDjangoOptions = {}): Promise<DjangoServer> {
  const child = spawn(PYTHON, ['serve.py'], {
    cwd: DJANGO_DIR,
    env: djangoEnv(config, {
      DJANGO_PORT: String(config.ports.django),
      SHARED_LOGIN_LINKS: JSON.stringify(options.links ?? []),
    }),
    // stdin stays open as a lifeline: serve.py stops when it reaches EOF (this process is gone).
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
    if (process.env.SHARED_LOGIN_DJANGO_LOG) process.stderr.write(chunk)
  })
  return new Promise((resolve, reject) => {
    let stdout = ''
    const timer = setTimeout(
      () => fail(new Error('Django did not start in time')),
      options.startTimeout ?? 30_000,
    )
    const fail = (error: Error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(
        new Error(`${error.message}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`),
      )
    }
    child.once('error', fail)
    child.once('exit', (code) => fail(new Error(`Django exited with code ${code}`)))
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const match = /listening on (http:\/\/\S+)/.exec(stdout)
      if (!match) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      child.removeListener('error', fail)
      resolve({ url: match[1]!, stop: () => stopChild(child) })
    })
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

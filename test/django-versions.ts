/**
 * The Django version matrix of the test suites: Debian bookworm's Django 3.2 (the system's
 * `python3-django`), 4.2 LTS from trixie and 5.2 LTS from sid, the last two unpacked by
 * `scripts/django-lts.sh` into a cache folder (`$SB_DJANGO_CACHE`, default
 * `/var/cache/sessionbridge-django`) and run by the same `/usr/bin/python3` with `PYTHONPATH`.
 *
 * ```ts
 * import { djangoVersions } from '@sessionbridge/test-services/django-versions'
 *
 * for (const django of await djangoVersions()) {
 *   describe.skipIf(!django.available)(`... against Django ${django.line}`, () => {
 *     // spawn(django.python, [script], { env: { ...process.env, ...django.env } })
 *   })
 * }
 * ```
 * Locally a version that is not installed is a loud skip (run `bash scripts/django-lts.sh`); in CI
 * (`CI=true`) `djangoVersions()` throws instead, so no version can be skipped there.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { DJANGO_PYTHON, IN_CI } from './services.ts'

/** The Django release lines the suites run against. */
export const DJANGO_LINES = ['3.2', '4.2', '5.2'] as const
export type DjangoLine = (typeof DJANGO_LINES)[number]

/** Where `scripts/django-lts.sh` unpacks 4.2 and 5.2. */
export const DJANGO_CACHE = process.env.SB_DJANGO_CACHE ?? '/var/cache/sessionbridge-django'

/** One Django of the matrix: how to start Python with it. */
export interface DjangoInstall {
  /** The release line: `'3.2'`, `'4.2'` or `'5.2'`. */
  line: DjangoLine
  /** What `django.get_version()` says (e.g. `'5.2.18'`), or `null` when not installed. */
  version: string | null
  /** Whether this Django imports: `false` means skip (locally only). */
  available: boolean
  /** The interpreter (`$DJANGO_PYTHON`, default `/usr/bin/python3`). */
  python: string
  /** Environment to add to `process.env` for this version: `PYTHONPATH` for 4.2 and 5.2, else `{}`. */
  env: Readonly<Record<string, string>>
}

/** The `PYTHONPATH` entries of a line: none for the system's 3.2. */
export function djangoSitePackages(line: DjangoLine): string | null {
  return line === '3.2' ? null : join(DJANGO_CACHE, line, 'usr/lib/python3/dist-packages')
}

function probe(python: string, env: Record<string, string>): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', 'import django; print(django.get_version())'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.once('error', () => resolve(null))
    child.once('exit', (code) => resolve(code === 0 ? out.trim() : null))
  })
}

async function locate(line: DjangoLine): Promise<DjangoInstall> {
  const site = djangoSitePackages(line)
  // The system's Django must not shadow a cached one, nor a PYTHONPATH of the caller the system one.
  const env: Record<string, string> = { PYTHONPATH: site ?? '' }
  const version = site === null || existsSync(site) ? await probe(DJANGO_PYTHON, env) : null
  const available = version !== null && (version === line || version.startsWith(`${line}.`))
  return { line, version: available ? version : null, available, python: DJANGO_PYTHON, env }
}

let located: Promise<DjangoInstall[]> | null = null

/**
 * Every line of the matrix, in `DJANGO_LINES` order, each probed once per process. Throws in CI when
 * one is missing; locally warns once and marks it `available: false`.
 */
export async function djangoVersions(): Promise<DjangoInstall[]> {
  located ??= Promise.all(DJANGO_LINES.map(locate))
  const all = await located
  const missing = all.filter((d) => !d.available).map((d) => d.line)
  if (missing.length > 0) {
    const message = `[sessionbridge/test-services] Django ${missing.join(', ')} not installed (${DJANGO_PYTHON}; 4.2/5.2 from ${DJANGO_CACHE}: run \`bash scripts/django-lts.sh\`)`
    if (IN_CI) throw new Error(`${message}: every version must run in CI`)
    if (!warned) console.warn(`\n*** SKIPPING ${message} ***\n`)
    warned = true
  }
  return all
}
let warned = false

/** One line of the matrix (see `djangoVersions`). */
export async function djangoVersion(line: DjangoLine): Promise<DjangoInstall> {
  return (await djangoVersions()).find((d) => d.line === line)!
}

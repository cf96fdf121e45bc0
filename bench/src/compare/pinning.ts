// Which core runs what. The measured server gets core 1 to itself; wrk, and every service the
// server talks to (PostgreSQL, MariaDB, memcached, Redis, our rest-sessions server), share core 0.
// A database backend that wakes on the server's core steals the very CPU being measured, and on
// this 2-core box that made one row's CPU per request swing by 3x between runs.
import { execFile } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** Pinning is on with 2+ cores, unless `BENCH_PIN=0`. */
export const PIN = process.env.BENCH_PIN !== '0' && availableParallelism() >= 2
export const SERVER_CPU = '1'
export const LOAD_CPU = '0'

/** `argv` prefixed with `taskset -c <cpu>` when pinning. */
export function pinned(cpu: string, argv: string[]): string[] {
  return PIN ? ['taskset', '-c', cpu, ...argv] : argv
}

/** Moves every thread of `pid` onto `cpu`; answers the affinity list it had, or null. */
async function move(pid: number, cpu: string): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync('taskset', ['-c', '-p', String(pid)])
    const before = /list:\s*(\S+)/.exec(stdout)?.[1] ?? null
    await execFileAsync('taskset', ['-a', '-c', '-p', cpu, String(pid)])
    return before
  } catch {
    return null // gone, or not ours to move: measured unpinned
  }
}

/** Moves every thread of a started server onto the server core (Node's worker threads included). */
export async function pinServer(pid: number | undefined): Promise<void> {
  if (PIN && pid !== undefined) await move(pid, SERVER_CPU)
}

/** The pids of running processes named exactly `name` (none when pgrep finds none). */
async function pidsOf(name: string): Promise<number[]> {
  const { stdout } = await execFileAsync('pgrep', ['-x', name]).catch(() => ({ stdout: '' }))
  return stdout.split('\n').filter(Boolean).map(Number)
}

/** The system services a run may talk to, by process name. */
const SERVICE_PROCESSES = ['postgres', 'mariadbd', 'mysqld', 'memcached', 'redis-server']

/**
 * Moves the services (and `extraPids`, the run's own Redis and rest-sessions server) onto the load
 * core; answers a function that puts the system services back as they were. Processes forked later
 * (a PostgreSQL backend for a new connection) inherit their parent's core.
 */
export async function pinServices(extraPids: number[]): Promise<{ note: string; restore(): Promise<void> }> {
  if (!PIN) return { note: '', restore: async () => {} }
  const moved: { pid: number; before: string }[] = []
  const services = (await Promise.all(SERVICE_PROCESSES.map(pidsOf))).flat()
  for (const pid of [...services, ...extraPids]) {
    const before = await move(pid, LOAD_CPU)
    if (before !== null && services.includes(pid)) moved.push({ pid, before })
  }
  return {
    note: `Cores: the measured server alone on core ${SERVER_CPU}; wrk and the services (${moved.length} service processes moved for the run, put back after) on core ${LOAD_CPU}`,
    async restore() {
      for (const { pid, before } of moved)
        await execFileAsync('taskset', ['-a', '-c', '-p', before, String(pid)]).catch(() => {})
      // Backends forked during the run inherited core 0 from a moved parent.
      const restored = moved[0]?.before
      if (restored === undefined) return
      for (const pid of (await Promise.all(SERVICE_PROCESSES.map(pidsOf))).flat())
        await execFileAsync('taskset', ['-a', '-c', '-p', restored, String(pid)]).catch(() => {})
    },
  }
}

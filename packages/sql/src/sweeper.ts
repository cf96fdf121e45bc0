import type { SessionLogger } from '@sessionbridge/core'
import { PKG } from './dialect.ts'

/**
 * Runs `clearExpired` every `interval` ms, one run at a time, never keeping the process alive.
 * Returns the function that stops it.
 */
export function startSweeper(interval: number, clearExpired: () => Promise<number>, logger: SessionLogger) {
  let sweeping = false
  const timer = setInterval(() => {
    if (sweeping) return
    sweeping = true
    clearExpired()
      .catch((error: Error) =>
        logger.warn(`[sessionbridge/${PKG}] background clearExpired failed: ${error.message}`),
      )
      .finally(() => {
        sweeping = false
      })
  }, interval)
  if (typeof timer === 'object' && timer && 'unref' in timer) timer.unref()
  return () => clearInterval(timer)
}

import type { SessionBackend } from '@sessionbridge/core'

/** One backend call seen by the spy. */
export interface SpiedCall {
  method: string
  /** The session id argument, for the methods that take one. */
  id: string | null
}

const ID_METHODS = new Set(['load', 'create', 'save', 'touch', 'destroy'])

/**
 * Wraps a backend and records every call with its id, so a test can prove that no id that failed
 * validation ever reached the store.
 */
export function spyBackend<B extends SessionBackend>(backend: B): { backend: B; calls: SpiedCall[] } {
  const calls: SpiedCall[] = []
  const wrapped = new Proxy(backend, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const method = String(prop)
        calls.push({ method, id: ID_METHODS.has(method) && typeof args[0] === 'string' ? args[0] : null })
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { backend: wrapped, calls }
}

import { describe, expect, it } from 'vitest'
import { backendCall, keepingAppErrors, keepSessionErrors } from '../src/adapter.ts'
import { SessionBackendError, SessionDataError } from '../src/index.ts'

describe('backendCall', () => {
  it('wraps a driver failure as a SessionBackendError with its cause', async () => {
    const cause = new Error('ECONNREFUSED')
    const error = await backendCall('sql', 'save', () => Promise.reject(cause)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionBackendError)
    expect((error as SessionBackendError).operation).toBe('save')
    expect((error as SessionBackendError).cause).toBe(cause)
  })

  it('passes a SessionBackendError and a result through unchanged', async () => {
    const own = new SessionBackendError('sql', 'load', 'down')
    await expect(backendCall('sql', 'save', () => Promise.reject(own))).rejects.toBe(own)
    await expect(backendCall('sql', 'save', async () => 7)).resolves.toBe(7)
  })

  it('turns a synchronous throw of the call into a rejection, never a throw', () => {
    const cause = new TypeError('bad argument')
    let answer: Promise<never> | undefined
    expect(() => {
      answer = backendCall('redis', 'load', () => {
        throw cause
      })
    }).not.toThrow()
    return expect(answer).rejects.toMatchObject({ name: 'SessionBackendError', operation: 'load', cause })
  })

  it('throws what `typed` answers, and wraps what it declines', async () => {
    const limit = new Error('value too long')
    const other = new Error('ECONNRESET')
    const mapped = new SessionDataError('sql', 'too large')
    const typed = (error: unknown) => (error === limit ? mapped : null)
    await expect(backendCall('sql', 'save', () => Promise.reject(limit), typed)).rejects.toBe(mapped)
    const wrapped = await backendCall('sql', 'save', () => Promise.reject(other), typed).catch(
      (e: unknown) => e,
    )
    expect(wrapped).toBeInstanceOf(SessionBackendError)
    expect((wrapped as SessionBackendError).cause).toBe(other)
    // A hook replaces the default: a SessionBackendError it declines is wrapped like anything else.
    const own = new SessionBackendError('sql', 'load', 'down')
    const rewrapped = await backendCall('sql', 'save', () => Promise.reject(own), typed).catch(
      (e: unknown) => e,
    )
    expect((rewrapped as SessionBackendError).cause).toBe(own)
  })

  it('with keepSessionErrors, lets every SessionError through and wraps the rest', async () => {
    const data = new SessionDataError('memcached', 'too large')
    await expect(
      backendCall('memcached', 'save', () => Promise.reject(data), keepSessionErrors),
    ).rejects.toBe(data)
    const io = new Error('ECONNRESET')
    const wrapped = await backendCall('memcached', 'save', () => Promise.reject(io), keepSessionErrors).catch(
      (e: unknown) => e,
    )
    expect(wrapped).toBeInstanceOf(SessionBackendError)
    expect((wrapped as SessionBackendError).cause).toBe(io)
  })
})

describe('keepingAppErrors', () => {
  // The machinery wraps whatever it sees, as a backend's guarded I/O does.
  const wrapping = <T>(call: () => T) => backendCall('x', 'update', async () => call())

  it("gives the caller the application's own exception, not the wrapped one", async () => {
    const own = new TypeError('not a number')
    const fn = (): number => {
      throw own
    }
    await expect(keepingAppErrors(fn, (guarded) => wrapping(() => guarded(0)))).rejects.toBe(own)
  })

  it('leaves the machinery’s own failures and results alone', async () => {
    const fn = (n: number) => n + 1
    await expect(keepingAppErrors(fn, (guarded) => wrapping(() => guarded(1)))).resolves.toBe(2)
    const failed = await keepingAppErrors(fn, () => wrapping(() => Promise.reject(new Error('io')))).catch(
      (e: unknown) => e,
    )
    expect(failed).toBeInstanceOf(SessionBackendError)
  })
})

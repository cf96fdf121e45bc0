import { afterEach, describe, expect, it, vi } from 'vitest'
import { wallClock } from '../src/wall-clock.ts'

const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('wallClock', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('reads as Date.now() does, in whole milliseconds, never ahead of it nor more than 1 ms behind', async () => {
    let last = 0
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 200; i++) {
        const before = Date.now()
        const read = wallClock()
        const after = Date.now()
        expect(Number.isInteger(read)).toBe(true)
        expect(read).toBeGreaterThanOrEqual(before - 1)
        expect(read).toBeLessThanOrEqual(after)
        expect(read).toBeGreaterThanOrEqual(last)
        last = read
      }
      await later(round % 4 === 0 ? 35 : 1) // reads across many milliseconds, and past a resync
    }
  })

  it('shows a step of the system clock within a second', async () => {
    wallClock()
    const step = 3_600_000
    const real = Date.now.bind(Date)
    vi.spyOn(Date, 'now').mockImplementation(() => real() + step)
    const started = performance.now()
    let read = wallClock()
    while (read < real() + step - 1 && performance.now() - started < 1500) {
      await later(20)
      read = wallClock()
    }
    expect(read).toBeGreaterThanOrEqual(real() + step - 1)
    expect(performance.now() - started).toBeLessThan(1100)
  })
})

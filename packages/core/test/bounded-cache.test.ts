import { describe, expect, it } from 'vitest'
import { BoundedCache } from '../src/adapter.ts'

describe('BoundedCache', () => {
  it('never holds more than its size, and keeps the newest half', () => {
    const cache = new BoundedCache<number, number>(10)
    for (let i = 0; i < 1000; i++) {
      cache.set(i, i * 2)
      expect(cache.size).toBeLessThanOrEqual(10)
    }
    for (let i = 995; i < 1000; i++) expect(cache.get(i)).toBe(i * 2)
    expect(cache.get(0)).toBeUndefined()
    expect(cache.get(989)).toBeUndefined()
  })

  it('moves an entry in use to the current generation, so it outlives newer ones', () => {
    const cache = new BoundedCache<string, number>(4)
    cache.set('busy', 1)
    cache.set('a', 2) // the current generation holds half the size: it becomes the previous one
    expect(cache.get('busy')).toBe(1) // moved up to the new current generation
    cache.set('b', 3) // rotates again: the previous generation, now only 'a', is dropped
    expect(cache.get('a')).toBeUndefined()
    expect(cache.get('busy')).toBe(1)
    expect(cache.get('b')).toBe(3)
  })

  it('answers the newest value of a key, and forgets a deleted key in both generations', () => {
    const cache = new BoundedCache<string, number>(4)
    cache.set('k', 1)
    cache.set('x', 0) // 'k' now in the previous generation
    cache.set('k', 2)
    expect(cache.get('k')).toBe(2)
    cache.set('y', 0) // rotates: 'k' and 'y' are the previous generation, 'x' is dropped
    cache.delete('k')
    expect(cache.get('k')).toBeUndefined()
    expect(cache.get('x')).toBeUndefined()
    expect(cache.size).toBe(1)
  })

  it('keeps nothing at size 0 and one entry at size 1', () => {
    const none = new BoundedCache<string, number>(0)
    none.set('a', 1)
    expect(none.get('a')).toBeUndefined()
    expect(none.size).toBe(0)
    const one = new BoundedCache<string, number>(1)
    one.set('a', 1)
    one.set('b', 2)
    expect(one.get('a')).toBeUndefined()
    expect(one.get('b')).toBe(2)
    expect(one.size).toBe(1)
  })

  it('getOrSet makes a missing value once and keeps it', () => {
    const cache = new BoundedCache<string, number>(4)
    let made = 0
    const make = () => ++made
    expect(cache.getOrSet('a', make)).toBe(1)
    expect(cache.getOrSet('a', make)).toBe(1)
    expect(made).toBe(1)
    expect(cache.get('a')).toBe(1)
  })
})

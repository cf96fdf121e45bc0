import { describe, expect, it } from 'vitest'
import { isPlainObject } from '../src/adapter.ts'
import { plainData } from '../src/index.ts'

describe('plainData', () => {
  it('copies own keys into an object that inherits nothing, keeping "__proto__" as data', () => {
    const source = JSON.parse('{"a":1,"__proto__":{"isAdmin":true}}') as Record<string, unknown>
    const data = plainData(source)
    expect(Object.keys(data)).toEqual(['a', '__proto__'])
    expect(data.isAdmin).toBeUndefined()
    expect(data.toString).toBeUndefined()
    expect('hasOwnProperty' in data).toBe(false)
    const protoKey = ['__', 'proto', '__'].join('') // what a request's `set('__proto__', ...)` does
    data[protoKey] = { isAdmin: true }
    expect(data.isAdmin).toBeUndefined()
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toEqual({ isAdmin: true })
    expect(JSON.stringify(plainData({ b: [1], c: 'x' }))).toBe('{"b":[1],"c":"x"}')
  })

  it('is a plain object to isPlainObject, as are {} and Object.create(null); other classes are not', () => {
    expect(isPlainObject(plainData())).toBe(true)
    expect(isPlainObject({})).toBe(true)
    expect(isPlainObject(Object.create(null))).toBe(true)
    expect(isPlainObject(new Map())).toBe(false)
    expect(isPlainObject(Object.create(plainData()))).toBe(false)
    expect(isPlainObject([])).toBe(false)
  })
})

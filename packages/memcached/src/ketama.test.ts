import { describe, expect, it } from 'vitest'
import { KetamaRing, ketamaHash } from './ketama.ts'

const servers = (labels: string[], weight = 1) => labels.map((label) => ({ label, weight }))
const keys = (n: number) => Array.from({ length: n }, (_, i) => `sb:sess:key-${i}-${(i * 2654435761) % 1e9}`)

describe('KetamaRing', () => {
  it('matches libketama points and placement (vectors computed with Python hashlib)', () => {
    expect(ketamaHash('foo')).toBeTypeOf('number')
    const ring = new KetamaRing(servers(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']))
    expect(ring.size).toBe(480)
    const at = (key: string) => ring.servers[ring.locate(key)]!.label
    expect(at('foo')).toBe('10.0.0.3:11211')
    expect(at('bar')).toBe('10.0.0.1:11211')
    expect(at('session:abc')).toBe('10.0.0.3:11211')
    expect(at('sb:sess:0123456789abcdefghijklmnopqrstuv')).toBe('10.0.0.2:11211')
    expect(at('hello world')).toBe('10.0.0.1:11211')
  })

  it('gives 160 points per server for equal weights, even for 3 servers (single-precision share)', () => {
    for (const n of [1, 2, 3, 5, 7]) {
      const ring = new KetamaRing(servers(Array.from({ length: n }, (_, i) => `10.0.0.${i}:11211`)))
      expect(ring.size).toBe(160 * n)
    }
  })

  it('spreads 100k keys over 3 servers within 15% of an even share', () => {
    const ring = new KetamaRing(servers(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']))
    const counts = [0, 0, 0]
    for (const key of keys(100_000)) counts[ring.locate(key)]!++
    for (const count of counts) expect(Math.abs(count / 100_000 - 1 / 3)).toBeLessThan(0.15 / 3)
  })

  it('moves about 1/N of the keys, all to the new server, when a server is added', () => {
    const before = new KetamaRing(servers(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211']))
    const after = new KetamaRing(
      servers(['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211']),
    )
    let moved = 0
    for (const key of keys(100_000)) {
      const from = before.servers[before.locate(key)]!.label
      const to = after.servers[after.locate(key)]!.label
      if (from !== to) {
        moved++
        expect(to).toBe('10.0.0.4:11211')
      }
    }
    // Ideal is 1/4; ketama's 160 points per server keep it within a few points of that.
    expect(moved / 100_000).toBeGreaterThan(0.18)
    expect(moved / 100_000).toBeLessThan(0.32)
  })

  it('honours weights: a server of weight 2 takes about twice the keys', () => {
    const ring = new KetamaRing([
      { label: 'a:1', weight: 2 },
      { label: 'b:1', weight: 1 },
      { label: 'c:1', weight: 1 },
    ])
    const counts = [0, 0, 0]
    for (const key of keys(100_000)) counts[ring.locate(key)]!++
    expect(counts[0]! / 100_000).toBeGreaterThan(0.4)
    expect(counts[0]! / 100_000).toBeLessThan(0.6)
  })

  it('walks each server once, owner first: the failover order', () => {
    const ring = new KetamaRing(servers(['a:1', 'b:1', 'c:1']))
    for (const key of keys(200)) {
      const order = [...ring.walk(key)]
      expect(order[0]).toBe(ring.locate(key))
      expect(new Set(order).size).toBe(3)
    }
  })
})

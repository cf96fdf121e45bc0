import { createHash } from 'node:crypto'

/** A server on the ring: its `host:port` label and weight. */
export interface RingServer {
  label: string
  weight: number
}

/** Four 32-bit points from one MD5 digest, little-endian, as libketama reads them. */
function md5Points(text: string): number[] {
  const digest = createHash('md5').update(text).digest()
  return [0, 1, 2, 3].map((h) => digest.readUInt32LE(h * 4))
}

/** The point a key lands on: the first four bytes of its MD5, little-endian (libketama's hashi). */
export function ketamaHash(key: string): number {
  return createHash('md5').update(key).digest().readUInt32LE(0)
}

/**
 * A ketama continuum, compatible with libketama and libmemcached's weighted ketama: each server
 * gets `floor(weight / total * 40 * servers)` MD5 digests of `"host:port-i"`, four points per
 * digest (160 points for equal weights). A key belongs to the first point at or after its hash,
 * wrapping around. Adding a server moves only the keys that now land on its points: about 1/N.
 */
export class KetamaRing {
  readonly #points: Uint32Array
  readonly #owners: Uint16Array
  readonly servers: readonly RingServer[]

  constructor(servers: readonly RingServer[]) {
    if (servers.length === 0) throw new RangeError('a ring needs at least one server')
    if (servers.length > 65_535) throw new RangeError('too many servers')
    this.servers = servers
    const total = servers.reduce((sum, s) => sum + s.weight, 0)
    const entries: Array<[number, number]> = []
    servers.forEach((server, index) => {
      // libketama computes the share in single precision; so do we, or 1/3 * 120 would floor to 39.
      const share = Math.fround(Math.fround(server.weight) / Math.fround(total))
      const digests = Math.floor(share * 40 * servers.length)
      for (let i = 0; i < digests; i++) {
        for (const point of md5Points(`${server.label}-${i}`)) entries.push([point, index])
      }
    })
    // Ties (vanishingly rare) resolve by server order, so every client builds the same ring.
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    this.#points = Uint32Array.from(entries, (e) => e[0])
    this.#owners = Uint16Array.from(entries, (e) => e[1])
  }

  /** Number of points on the continuum. */
  get size(): number {
    return this.#points.length
  }

  /** Index of the server owning `key`. */
  locate(key: string): number {
    return this.#owners[this.#slot(ketamaHash(key))]!
  }

  /**
   * Server indexes in ring order starting at the key's owner, each once: the owner first, then
   * the servers its keys fail over to.
   */
  *walk(key: string): Generator<number> {
    const seen = new Set<number>()
    const start = this.#slot(ketamaHash(key))
    const count = this.#points.length
    for (let step = 0; step < count && seen.size < this.servers.length; step++) {
      const owner = this.#owners[(start + step) % count]!
      if (!seen.has(owner)) {
        seen.add(owner)
        yield owner
      }
    }
  }

  /** First point at or after `hash`, wrapping to 0 past the last one. */
  #slot(hash: number): number {
    const points = this.#points
    let low = 0
    let high = points.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (points[mid]! < hash) low = mid + 1
      else high = mid
    }
    return low === points.length ? 0 : low
  }
}

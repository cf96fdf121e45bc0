// Counts the calls made to an object's methods: wrapped around a backend's client (or a peer's
// store), it gives the round trips per request that the benchmark prints beside throughput.

/** A running total shared by every wrapper of one server process. */
export interface CallCounter {
  calls: number
}

/**
 * A view of `target` whose methods add `weight(name)` to `counter` per call. Methods are bound to
 * the real object, so classes with `#private` fields keep working behind the proxy; each method's
 * wrapper is made once, so the count costs a property lookup, not a closure per call.
 */
export function countCalls<T extends object>(
  target: T,
  counter: CallCounter,
  weight: (method: string) => number = () => 1,
): T {
  const wrappers = new Map<string, { method: unknown; wrapper: unknown }>()
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver)
      if (typeof value !== 'function' || typeof property !== 'string') return value
      const known = wrappers.get(property)
      if (known?.method === value) return known.wrapper
      const method = value as (...args: unknown[]) => unknown
      const cost = weight(property)
      const wrapper =
        cost === 0
          ? method.bind(object)
          : (...args: unknown[]) => {
              counter.calls += cost
              return method.apply(object, args)
            }
      wrappers.set(property, { method: value, wrapper })
      return wrapper
    },
  })
}

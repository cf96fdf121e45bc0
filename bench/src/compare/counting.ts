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

/**
 * An object in front of `target` whose methods (own and inherited) add one to `counter` per call
 * and run on `target` itself; any other property reads through to `target`. For our own backends
 * and clients: unlike `countCalls`' proxy, which slows every property read of the object the
 * library's hot path touches (a `Proxy` trap each, several microseconds per request in all), this
 * costs one closure call per counted call, as the limit rows' inline `counter.calls++` does.
 */
export function countMethods<T extends object>(target: T, counter: CallCounter): T {
  const front = Object.create(target) as Record<string | symbol, unknown>
  for (
    let level: object | null = target;
    level && level !== Object.prototype;
    level = Object.getPrototypeOf(level)
  ) {
    for (const key of Reflect.ownKeys(level)) {
      if (key === 'constructor' || Object.hasOwn(front, key)) continue
      const descriptor = Object.getOwnPropertyDescriptor(level, key)!
      if (descriptor.get || descriptor.set) {
        // Accessors run against the target, whose private fields they may read.
        Object.defineProperty(front, key, {
          get: () => Reflect.get(target, key),
          set: (value: unknown) => Reflect.set(target, key, value),
          enumerable: descriptor.enumerable ?? false,
        })
      } else if (typeof descriptor.value === 'function') {
        const method = descriptor.value as (...args: unknown[]) => unknown
        front[key] = (...args: unknown[]) => {
          counter.calls++
          return method.apply(target, args)
        }
      }
    }
  }
  return front as T
}

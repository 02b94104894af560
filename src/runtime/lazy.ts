/**
 * An object made on first use. The handlers' ports are made this way so that loading a handler
 * loads none of the AWS SDK: a client (and the SDK modules under it, which are most of a cold
 * start) is loaded by the first request that needs it, and a request that never needs it (an API
 * call that reads the table only, a controller without ECS agents) never loads it.
 *
 * Every property read goes to the object, made on the first read; methods are bound to it.
 */
export function lazy<T extends object>(make: () => T): T {
  let made: T | undefined;
  const instance = (): T => (made ??= make());
  return new Proxy({} as T, {
    get(_target, prop) {
      const target = instance();
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has(_target, prop) {
      return Reflect.has(instance(), prop);
    },
  });
}

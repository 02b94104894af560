/**
 * Classes of this library that are built only through their static factories (or, for an abstract
 * base, only through the library's own subclasses) because the library reads internal state or
 * calls internal (`_`-prefixed) members on them, which jsii does not expose to other languages.
 *
 * TypeScript cannot subclass them (a private constructor, or abstract internal members), but jsii
 * lets a Python class subclass any class. When an instance of such a subclass reaches the library,
 * jsii builds its JavaScript side by calling the constructor of the library class itself: with no
 * arguments for a private constructor, and with `new.target` the library class for an abstract one.
 * These checks turn that into an error at once, naming what to use, instead of a
 * `TypeError: s._render is not a function` when the object is used later.
 */

/**
 * Refuses an instance built without the value the static factories always pass: a subclass from
 * another language (jsii calls a private constructor with no arguments).
 *
 * @param className the library class, e.g. `AgentCompute`
 * @param given the constructor's first argument (never undefined when a factory calls it)
 * @param useInstead what to build the value with, e.g. `AgentCompute.fargate() or AgentCompute.lambdaFunction()`
 */
export function checkBuiltByFactory(className: string, given: unknown, useInstead: string): void {
  if (given === undefined) {
    throw new Error(`${className} cannot be subclassed or constructed directly (the library reads internal state that only its `
      + `static factories set); use ${useInstead}`);
  }
}

/**
 * Refuses an abstract library class constructed as itself or without the internal member the library
 * calls: a subclass from another language (jsii constructs the library class and forwards only the
 * public members the subclass overrides, never the internal ones).
 *
 * @param className the abstract library class, e.g. `WorkflowStep`
 * @param constructedAsBase whether `new.target` is the abstract class itself
 * @param internalMember the internal method the library calls, e.g. `_render`
 * @param instance the instance under construction
 * @param useInstead what to use, e.g. `AgentStep, ApprovalStep, ... (or extend one of them)`
 */
export function checkLibrarySubclass(className: string, constructedAsBase: boolean, internalMember: string, instance: object,
  useInstead: string): void {
  const member = (instance as Record<string, unknown>)[internalMember];
  if (constructedAsBase || typeof member !== 'function') {
    throw new Error(`${className} cannot be subclassed outside this library (the library calls its internal ${internalMember}(), `
      + `which a subclass in another language cannot provide); use ${useInstead}`);
  }
}

import type { StepDocument, ValueRef, WorkflowDefinitionDocument } from '../contract/definition';

/** Reads a dot path (`a.b.c`) from a JSON value; '' is the value itself. */
export function getPath(value: unknown, path: string): unknown {
  if (path === '') return value;
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Thrown when a reference resolves to nothing. */
export class UnresolvedValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnresolvedValueError';
  }
}

/** Resolves a reference against the workflow input and the outputs of the steps so far. */
export function resolveRef(ref: ValueRef, input: Record<string, unknown>, outputs: Record<string, unknown>, usedBy: string): unknown {
  switch (ref.from) {
    case 'literal':
      return ref.value;
    case 'input': {
      const v = getPath(input, ref.path);
      if (v === undefined && ref.optional) return null;
      if (v === undefined) {
        throw new UnresolvedValueError(`step '${usedBy}' needs input field '${ref.path}', which the workflow input does not have`);
      }
      return v;
    }
    case 'step': {
      if (!(ref.step in outputs)) {
        throw new UnresolvedValueError(`step '${usedBy}' needs the output of step '${ref.step}', which has not produced one`);
      }
      const v = getPath(outputs[ref.step], ref.path);
      if (v === undefined) {
        throw new UnresolvedValueError(`step '${usedBy}' needs '${ref.path}' from step '${ref.step}', which step '${ref.step}' did not report`);
      }
      return v;
    }
  }
}

/**
 * Input fields every run reads, with the first step that reads each (for request validation).
 * Fields read only inside a choice case may legitimately be absent, so they are not required.
 */
export function requiredInputFields(def: WorkflowDefinitionDocument): Array<{ path: string; step: string }> {
  const seen = new Map<string, string>();
  const walk = (steps: readonly StepDocument[]) => {
    for (const s of steps) {
      for (const ref of refsOf(s)) {
        if (ref.from === 'input' && ref.path !== '' && !ref.optional && !seen.has(ref.path)) seen.set(ref.path, s.name);
      }
      if (s.type === 'parallel') s.branches.forEach((b) => walk(b.steps));
    }
  };
  walk(def.steps);
  return [...seen].map(([path, step]) => ({ path, step }));
}

function refsOf(s: StepDocument): ValueRef[] {
  switch (s.type) {
    case 'agent': return Object.values(s.input);
    case 'choice': return [s.value];
    case 'publish': return [s.artifact];
    default: return [];
  }
}

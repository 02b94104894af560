/**
 * fast-check generators of random valid workflow definitions. Each generated value carries both
 * the definition built with the public classes and the document it must render to, built here
 * independently from the same random shape (so a rendering bug shows as a difference).
 */
import { Duration } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import type {
  RetryDocument, StepDocument, ValueRef, WorkflowDefinitionDocument,
} from '../../src/contract/definition';
import {
  AgentStep, ApprovalStep, ApprovalTimeoutAction, ChoiceCase, ChoiceStep, ParallelBranch, ParallelStep, PublishStep,
  RetryPolicy, StepInput, WorkflowAgent, WorkflowDefinition, WorkflowStep,
} from '../../src/workflow';

export const AGENT_POOL = ['researcher', 'analyst', 'writer', 'reviewer'];

type InputShape =
  | { readonly source: 'input'; readonly path: string }
  | { readonly source: 'optional'; readonly path: string }
  | { readonly source: 'step'; readonly pick: number; readonly path: string }
  | { readonly source: 'artifact'; readonly pick: number; readonly artifact: string }
  | { readonly source: 'string'; readonly value: string }
  | { readonly source: 'number'; readonly value: number }
  | { readonly source: 'boolean'; readonly value: boolean };

type RetryShape = null | 'none' | {
  readonly maxAttempts: number; readonly initialDelay: number; readonly backoffRate: number; readonly maxDelay: number;
};

type Shape =
  | {
    readonly kind: 'agent';
    readonly base: string;
    readonly agent: number;
    readonly inputs: InputShape[];
    readonly timeout: number | null;
    readonly heartbeat: number | null;
    readonly retry: RetryShape;
  }
  | {
    readonly kind: 'approval';
    readonly base: string;
    readonly prompt: string;
    readonly timeout: number | null;
    readonly onTimeout: number | null;
    readonly continueOnRejection: boolean | null;
  }
  | { readonly kind: 'publish'; readonly base: string | null; readonly pick: number; readonly artifact: string }
  | {
    readonly kind: 'parallel';
    readonly base: string;
    readonly branches: { readonly base: string; readonly steps: Shape[] }[];
    readonly maxConcurrency: number | null;
    readonly minSuccessful: number | null;
  }
  | {
    readonly kind: 'choice';
    readonly base: string;
    readonly value: InputShape;
    readonly cases: { readonly equals: string | number | boolean; readonly steps: Shape[] }[];
    readonly otherwise: Shape[] | null;
  };

/** `fc.option` with its nil typed. */
function opt<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.option(arb, { nil: null });
}

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/);
const dotPath = fc.array(fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,8}$/), { minLength: 0, maxLength: 3 }).map((p) => p.join('.'));
const artifactName = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/);

const inputShape: fc.Arbitrary<InputShape> = fc.oneof(
  fc.record({ source: fc.constant('input' as const), path: dotPath }),
  fc.record({ source: fc.constant('optional' as const), path: dotPath.filter((p) => p.length > 0) }),
  fc.record({ source: fc.constant('step' as const), pick: fc.nat(), path: dotPath }),
  fc.record({ source: fc.constant('artifact' as const), pick: fc.nat(), artifact: artifactName }),
  fc.record({ source: fc.constant('string' as const), value: fc.string({ maxLength: 20 }) }),
  fc.record({ source: fc.constant('number' as const), value: fc.integer() }),
  fc.record({ source: fc.constant('boolean' as const), value: fc.boolean() }),
);

const retryShape: fc.Arbitrary<RetryShape> = fc.oneof(
  fc.constant(null),
  fc.constant('none' as const),
  fc.record({
    maxAttempts: fc.integer({ min: 1, max: 10 }),
    initialDelay: fc.integer({ min: 0, max: 86400 }),
    backoffRate: fc.double({ min: 1, max: 10, noNaN: true }),
    maxDelay: fc.integer({ min: 0, max: 86400 }),
  }),
);

const agentShape: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constant('agent' as const),
  base: name,
  agent: fc.nat({ max: AGENT_POOL.length - 1 }),
  inputs: fc.array(inputShape, { maxLength: 3 }),
  timeout: opt(fc.integer({ min: 1, max: 7 * 86400 })),
  heartbeat: opt(fc.nat()),
  retry: retryShape,
});

const approvalShape: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constant('approval' as const),
  base: name,
  prompt: fc.string({ minLength: 1, maxLength: 40 }).filter((p) => p.trim().length > 0),
  timeout: opt(fc.integer({ min: 1, max: 30 * 86400 })),
  onTimeout: opt(fc.nat({ max: 2 })),
  continueOnRejection: opt(fc.boolean()),
});

const publishShape: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constant('publish' as const),
  base: opt(name),
  pick: fc.nat(),
  artifact: artifactName,
});

const caseValue = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: 5 }), fc.boolean());

function shapeArb(depth: number): fc.Arbitrary<Shape> {
  const leaf = fc.oneof(agentShape, approvalShape, publishShape);
  if (depth <= 0) return leaf;
  const inner = shapeArb(depth - 1);
  const parallel: fc.Arbitrary<Shape> = fc.record({
    kind: fc.constant('parallel' as const),
    base: name,
    branches: fc.array(fc.record({ base: name, steps: fc.array(inner, { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 3 }),
    maxConcurrency: opt(fc.nat()),
    minSuccessful: opt(fc.nat()),
  });
  const choice: fc.Arbitrary<Shape> = fc.record({
    kind: fc.constant('choice' as const),
    base: name,
    value: inputShape,
    cases: fc.uniqueArray(fc.record({ equals: caseValue, steps: fc.array(inner, { maxLength: 2 }) }), {
      minLength: 1, maxLength: 2, selector: (c) => `${typeof c.equals}:${String(c.equals)}`,
    }),
    otherwise: opt(fc.array(inner, { maxLength: 1 })),
  });
  return fc.oneof({ arbitrary: leaf, weight: 3 }, { arbitrary: parallel, weight: 1 }, { arbitrary: choice, weight: 1 });
}

/** A generated definition and the document it must render to. */
export interface GeneratedWorkflow {
  readonly definition: WorkflowDefinition;
  readonly document: WorkflowDefinitionDocument;
  /** The agents it uses, distinct, in order of first use. */
  readonly agents: string[];
}

/** Builds the classes and the expected document from a shape, keeping references valid. */
class Builder {
  private counter = 0;
  private defaultPublishUsed = false;
  public readonly agents: string[] = [];

  public sequence(shapes: readonly Shape[], before: readonly string[]): { steps: WorkflowStep[]; docs: StepDocument[]; after: string[] } {
    const available = [...before];
    const steps: WorkflowStep[] = [];
    const docs: StepDocument[] = [];
    for (const shape of shapes) {
      const built = this.step(shape, available);
      steps.push(built.step);
      docs.push(built.doc);
      available.push(...built.adds);
    }
    return { steps, docs, after: available };
  }

  private uniqueName(base: string): string {
    return `${base}_${this.counter++}`;
  }

  private input(shape: InputShape, available: readonly string[]): { input: StepInput; ref: ValueRef } {
    if ((shape.source === 'step' || shape.source === 'artifact') && available.length === 0) {
      return { input: StepInput.fromWorkflowInput('topic'), ref: { from: 'input', path: 'topic' } };
    }
    switch (shape.source) {
      case 'input':
        return { input: StepInput.fromWorkflowInput(shape.path), ref: { from: 'input', path: shape.path } };
      case 'optional':
        return { input: StepInput.fromOptionalWorkflowInput(shape.path), ref: { from: 'input', path: shape.path, optional: true } };
      case 'step': {
        const step = available[shape.pick % available.length];
        return { input: StepInput.fromStepOutput(step, shape.path), ref: { from: 'step', step, path: shape.path } };
      }
      case 'artifact': {
        const step = available[shape.pick % available.length];
        return {
          input: StepInput.fromArtifact(step, shape.artifact),
          ref: { from: 'step', step, path: `artifacts.${shape.artifact}` },
        };
      }
      case 'string':
        return { input: StepInput.literalString(shape.value), ref: { from: 'literal', value: shape.value } };
      case 'number':
        return { input: StepInput.literalNumber(shape.value), ref: { from: 'literal', value: shape.value } };
      case 'boolean':
        return { input: StepInput.literalBoolean(shape.value), ref: { from: 'literal', value: shape.value } };
    }
  }

  private step(shape: Shape, available: readonly string[]): { step: WorkflowStep; doc: StepDocument; adds: string[] } {
    switch (shape.kind) {
      case 'agent': {
        const stepName = this.uniqueName(shape.base);
        const agent = AGENT_POOL[shape.agent];
        if (!this.agents.includes(agent)) this.agents.push(agent);
        const input: Record<string, StepInput> = {};
        const inputDoc: Record<string, ValueRef> = {};
        shape.inputs.forEach((s, i) => {
          const built = this.input(s, available);
          input[`in${i}`] = built.input;
          inputDoc[`in${i}`] = built.ref;
        });
        const timeout = shape.timeout ?? 3600;
        const heartbeat = shape.heartbeat === null || timeout < 2 ? undefined : 1 + (shape.heartbeat % (timeout - 1));
        let retry: RetryPolicy | undefined;
        let retryDoc: RetryDocument = { maxAttempts: 3, initialDelaySeconds: 10, backoffRate: 2, maxDelaySeconds: 300 };
        if (shape.retry === 'none') {
          retry = RetryPolicy.none();
          retryDoc = { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 };
        } else if (shape.retry !== null) {
          retry = RetryPolicy.exponential({
            maxAttempts: shape.retry.maxAttempts,
            initialDelay: Duration.seconds(shape.retry.initialDelay),
            backoffRate: shape.retry.backoffRate,
            maxDelay: Duration.seconds(shape.retry.maxDelay),
          });
          retryDoc = {
            maxAttempts: shape.retry.maxAttempts,
            initialDelaySeconds: shape.retry.initialDelay,
            backoffRate: shape.retry.backoffRate,
            maxDelaySeconds: shape.retry.maxDelay,
          };
        }
        const step = new AgentStep({
          stepName,
          agent: WorkflowAgent.named(agent),
          input,
          timeout: shape.timeout === null ? undefined : Duration.seconds(shape.timeout),
          heartbeatTimeout: heartbeat === undefined ? undefined : Duration.seconds(heartbeat),
          retry,
        });
        const doc: StepDocument = {
          type: 'agent',
          name: stepName,
          agent,
          input: inputDoc,
          timeoutSeconds: timeout,
          ...(heartbeat === undefined ? {} : { heartbeatTimeoutSeconds: heartbeat }),
          retry: retryDoc,
        };
        return { step, doc, adds: [stepName] };
      }
      case 'approval': {
        const stepName = this.uniqueName(shape.base);
        const actions = [ApprovalTimeoutAction.REJECT, ApprovalTimeoutAction.APPROVE, ApprovalTimeoutAction.FAIL];
        const step = new ApprovalStep({
          stepName,
          prompt: shape.prompt,
          timeout: shape.timeout === null ? undefined : Duration.seconds(shape.timeout),
          onTimeout: shape.onTimeout === null ? undefined : actions[shape.onTimeout],
          continueOnRejection: shape.continueOnRejection ?? undefined,
        });
        const doc: StepDocument = {
          type: 'approval',
          name: stepName,
          prompt: shape.prompt,
          timeoutSeconds: shape.timeout ?? 86400,
          onTimeout: (['REJECT', 'APPROVE', 'FAIL'] as const)[shape.onTimeout ?? 0],
          onReject: shape.continueOnRejection ? 'CONTINUE' : 'END',
        };
        return { step, doc, adds: [stepName] };
      }
      case 'publish': {
        if (available.length === 0) {
          // Nothing to publish yet: an approval instead.
          return this.step({
            kind: 'approval', base: shape.base ?? 'approve', prompt: 'Go on?', timeout: null, onTimeout: null, continueOnRejection: null,
          }, available);
        }
        // The default name 'publish' can be used once only; later publish steps get a unique name.
        const useDefault = shape.base === null && !this.defaultPublishUsed;
        const stepName = useDefault ? 'publish' : this.uniqueName(shape.base ?? 'publish');
        this.defaultPublishUsed ||= useDefault;
        const from = available[shape.pick % available.length];
        const step = new PublishStep({
          stepName: useDefault ? undefined : stepName,
          artifact: StepInput.fromArtifact(from, shape.artifact),
        });
        const doc: StepDocument = { type: 'publish', name: stepName, artifact: { from: 'step', step: from, path: `artifacts.${shape.artifact}` } };
        return { step, doc, adds: [stepName] };
      }
      case 'parallel': {
        const stepName = this.uniqueName(shape.base);
        const count = shape.branches.length;
        const built = shape.branches.map((b, i) => ({ branchName: `${b.base}_${i}`, ...this.sequence(b.steps, available) }));
        const maxConcurrency = shape.maxConcurrency === null ? undefined : 1 + (shape.maxConcurrency % 10);
        const minSuccessful = shape.minSuccessful === null ? undefined : 1 + (shape.minSuccessful % count);
        const step = new ParallelStep({
          stepName,
          branches: built.map((b) => new ParallelBranch({ branchName: b.branchName, steps: b.steps })),
          maxConcurrency,
          minSuccessful,
        });
        const doc: StepDocument = {
          type: 'parallel',
          name: stepName,
          branches: built.map((b) => ({ name: b.branchName, steps: b.docs })),
          maxConcurrency: maxConcurrency ?? count,
          minSuccessful: minSuccessful ?? count,
        };
        const all = (minSuccessful ?? count) === count;
        const fromBranches = all ? built.flatMap((b) => b.after.filter((n) => !available.includes(n))) : [];
        return { step, doc, adds: [...fromBranches, stepName] };
      }
      case 'choice': {
        const stepName = this.uniqueName(shape.base);
        const value = this.input(shape.value, available);
        const cases = shape.cases.map((c) => ({ equals: c.equals, ...this.sequence(c.steps, available) }));
        const otherwise = this.sequence(shape.otherwise ?? [], available);
        const toCase = (equals: string | number | boolean, steps: WorkflowStep[]) =>
          typeof equals === 'string' ? ChoiceCase.whenString(equals, steps)
            : typeof equals === 'number' ? ChoiceCase.whenNumber(equals, steps) : ChoiceCase.whenBoolean(equals, steps);
        const step = new ChoiceStep({
          stepName,
          value: value.input,
          cases: cases.map((c) => toCase(c.equals, c.steps)),
          otherwise: shape.otherwise === null ? undefined : otherwise.steps,
        });
        const doc: StepDocument = {
          type: 'choice',
          name: stepName,
          value: value.ref,
          cases: cases.map((c) => ({ equals: c.equals, steps: c.docs })),
          otherwise: otherwise.docs,
        };
        return { step, doc, adds: [stepName] };
      }
    }
  }
}

/** A random valid workflow: up to 4 top-level steps, nested up to 2 levels (at most 172 steps). */
export const validWorkflow: fc.Arbitrary<GeneratedWorkflow> = fc.record({
  workflowName: name,
  description: opt(fc.string({ maxLength: 30 })),
  steps: fc.array(shapeArb(2), { minLength: 1, maxLength: 4 }),
}).map(({ workflowName, description, steps }) => {
  const builder = new Builder();
  const built = builder.sequence(steps, []);
  const definition = new WorkflowDefinition({ workflowName, description: description ?? undefined, steps: built.steps });
  const document: WorkflowDefinitionDocument = {
    schemaVersion: 1,
    name: workflowName,
    ...(description === null ? {} : { description }),
    steps: built.docs,
  };
  return { definition, document, agents: builder.agents };
});

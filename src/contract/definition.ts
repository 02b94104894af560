/**
 * The serialized workflow definition: what the public definition classes (src/workflow)
 * render at synth, and what the controller (src/runtime) interprets. Plain data, versioned;
 * this module imports nothing so that both sides can share it.
 */

/** Version of the definition document. Bump on any incompatible change. */
export const DEFINITION_SCHEMA_VERSION = 1;

/** Limits the definition is validated against (also enforced again by the runtime). */
export const LIMITS = {
  /** Step and branch names: letters, digits, `-` and `_`, starting with a letter. */
  namePattern: /^[A-Za-z][A-Za-z0-9_-]{0,62}$/,
  /** An agent step may wait for its agent at most this long (one attempt). */
  maxAgentTimeoutSeconds: 7 * 24 * 3600,
  minAgentTimeoutSeconds: 1,
  /** An approval may wait at most this long. */
  maxApprovalTimeoutSeconds: 30 * 24 * 3600,
  minApprovalTimeoutSeconds: 1,
  maxRetryAttempts: 10,
  maxRetryDelaySeconds: 24 * 3600,
  maxParallelBranches: 50,
  maxSteps: 200,
  maxPromptLength: 2000,
  /** Declared input fields, nested ones included. */
  maxInputFields: 200,
  /** Deepest nesting of declared objects and arrays (the input itself is level 1). */
  maxInputDepth: 10,
  /** Allowed values of one declared field. */
  maxInputEnumValues: 100,
  /** A workflow's wall-clock budget: the longest durable execution (one year). */
  maxBudgetDurationSeconds: 365 * 24 * 3600,
  minBudgetDurationSeconds: 1,
  maxBudgetAgentAttempts: 10_000,
  maxBudgetTokens: 1e12,
  maxBudgetCostUsd: 1e6,
} as const;

/** A value the runtime resolves when a step starts. */
export type ValueRef =
  /**
   * A field of the workflow input, by dot path (`topic`, `parameters.depth`); `''` is the whole
   * input. Required (POST /workflows rejects an input without it) unless `optional`, in which
   * case a missing field resolves to `null`.
   */
  | { readonly from: 'input'; readonly path: string; readonly optional?: boolean }
  /** A field of an earlier step's output, by dot path (`artifacts.report`, `outcome`). */
  | { readonly from: 'step'; readonly step: string; readonly path: string }
  /** A constant. */
  | { readonly from: 'literal'; readonly value: string | number | boolean };

/** Retry policy of an agent step: attempts include the first one. */
export interface RetryDocument {
  readonly maxAttempts: number;
  readonly initialDelaySeconds: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds: number;
}

/** Hand a task to an agent and wait for its report. */
export interface AgentStepDocument {
  readonly type: 'agent';
  readonly name: string;
  /** Name of the agent (a key of the agents the orchestrator or local server knows). */
  readonly agent: string;
  /** The task's input: each key becomes a field of the envelope's `input`. */
  readonly input: Readonly<Record<string, ValueRef>>;
  /** How long one attempt may take before it counts as timed out. */
  readonly timeoutSeconds: number;
  /** If set, the agent must heartbeat at least this often. */
  readonly heartbeatTimeoutSeconds?: number;
  readonly retry: RetryDocument;
  /** What the step's agent may spend over all its attempts (budget.ts); absent: no step budget. */
  readonly budget?: StepBudgetDocument;
}

/**
 * What one agent step may spend, over all its attempts, as its agent reports it (`usage` in its
 * heartbeats and report). Each limit is optional.
 */
export interface StepBudgetDocument {
  /** Input plus output model tokens. */
  readonly maxTokens?: number;
  /** Estimated cost in US dollars, from the agent's price table. */
  readonly maxCostUsd?: number;
}

/** What a whole run may spend. Each limit is optional. */
export interface WorkflowBudgetDocument extends StepBudgetDocument {
  /** Wall-clock time from the workflow's creation. */
  readonly maxDurationSeconds?: number;
  /** Agent attempts over all agent steps (every attempt dispatched counts, retries included). */
  readonly maxAgentAttempts?: number;
}

/** What an approval that nobody answers in time becomes. */
export type ApprovalTimeoutAction = 'REJECT' | 'APPROVE' | 'FAIL';
/** What a rejection does: end the workflow as REJECTED, or continue (to a choice on the outcome). */
export type RejectionAction = 'END' | 'CONTINUE';

/** Wait for a person to approve or reject. */
export interface ApprovalStepDocument {
  readonly type: 'approval';
  readonly name: string;
  readonly prompt: string;
  readonly timeoutSeconds: number;
  readonly onTimeout: ApprovalTimeoutAction;
  readonly onReject: RejectionAction;
}

/** One branch of a parallel step: a sequence of steps. */
export interface BranchDocument {
  readonly name: string;
  readonly steps: readonly StepDocument[];
}

/** Run branches side by side. */
export interface ParallelStepDocument {
  readonly type: 'parallel';
  readonly name: string;
  readonly branches: readonly BranchDocument[];
  /** How many branches run at once. */
  readonly maxConcurrency: number;
  /** How many branches must succeed for the step to succeed. */
  readonly minSuccessful: number;
}

/** One case of a choice. */
export interface ChoiceCaseDocument {
  readonly equals: string | number | boolean;
  readonly steps: readonly StepDocument[];
}

/** Run the steps of the first case whose value equals the resolved value, else `otherwise`. */
export interface ChoiceStepDocument {
  readonly type: 'choice';
  readonly name: string;
  readonly value: ValueRef;
  readonly cases: readonly ChoiceCaseDocument[];
  readonly otherwise: readonly StepDocument[];
}

/**
 * Store the result: copy an artifact to the workflow's published location and make it the
 * workflow's result (`result.report` in the API).
 */
export interface PublishStepDocument {
  readonly type: 'publish';
  readonly name: string;
  /** Must resolve to an artifact key written by an earlier step. */
  readonly artifact: ValueRef;
}

export type StepDocument =
  | AgentStepDocument
  | ApprovalStepDocument
  | ParallelStepDocument
  | ChoiceStepDocument
  | PublishStepDocument;

export type StepType = StepDocument['type'];

/** JSON types a declared input field may have (JSON Schema's names). */
export type InputFieldType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

/**
 * A declared field of the workflow input: a subset of JSON Schema (draft 2020-12 keywords), so
 * that any client can read it. `src/contract/inputs.ts` checks a declaration and checks an input
 * against it; keywords other than these are refused in a declaration.
 */
export interface InputFieldDocument {
  readonly type: InputFieldType;
  readonly description?: string;
  /** The values allowed (strings, numbers and integers). */
  readonly enum?: ReadonlyArray<string | number>;
  /** Strings: fewest and most characters (a surrogate pair counts as one). */
  readonly minLength?: number;
  readonly maxLength?: number;
  /** Numbers and integers: smallest and largest value, both included. */
  readonly minimum?: number;
  readonly maximum?: number;
  /** Objects: the fields, those that must be present, and whether others are accepted (JSON Schema's default: true). */
  readonly properties?: Readonly<Record<string, InputFieldDocument>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
  /** Arrays: the type of every item, fewest and most items. */
  readonly items?: InputFieldDocument;
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** The declared workflow input: always an object (the body of `POST /workflows`). */
export interface InputsDocument extends InputFieldDocument {
  readonly type: 'object';
}

/** The whole definition. */
export interface WorkflowDefinitionDocument {
  readonly schemaVersion: typeof DEFINITION_SCHEMA_VERSION;
  readonly name: string;
  readonly description?: string;
  /**
   * The declared input. When present, `POST /workflows` (and a schedule's tick) refuses an input
   * that does not match it with a 400 naming each field, before anything is written. Absent in
   * documents of workflows that declare nothing (and in those written before declarations).
   */
  readonly inputs?: InputsDocument;
  readonly steps: readonly StepDocument[];
  /** What a run may spend (budget.ts); absent: no workflow budget. */
  readonly budget?: WorkflowBudgetDocument;
}

/** Every step of a definition, nested ones included, in document order. */
export function allSteps(steps: readonly StepDocument[]): StepDocument[] {
  const out: StepDocument[] = [];
  for (const s of steps) {
    out.push(s);
    if (s.type === 'parallel') {
      for (const b of s.branches) out.push(...allSteps(b.steps));
    } else if (s.type === 'choice') {
      for (const c of s.cases) out.push(...allSteps(c.steps));
      out.push(...allSteps(s.otherwise));
    }
  }
  return out;
}

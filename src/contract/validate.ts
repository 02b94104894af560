/**
 * Validation of a serialized workflow definition. Pure and dependency-free (it imports only
 * ./definition): the definition classes (src/workflow) run it at synth, and the runtime runs it
 * again on the document it is handed. It never throws on malformed input; it returns every
 * problem it finds, each naming the step and saying how to fix it.
 */
import { DEFINITION_SCHEMA_VERSION, LIMITS } from './definition';
import type { WorkflowDefinitionDocument } from './definition';
import { inputDeclarationProblems } from './inputs';

/** Options of `validateDefinition`. */
export interface ValidateOptions {
  /** When given, every agent step must name one of these agents. */
  readonly knownAgents?: readonly string[];
}

const STEP_TYPES = ['agent', 'approval', 'parallel', 'choice', 'publish'] as const;
const APPROVAL_TIMEOUT_ACTIONS = ['REJECT', 'APPROVE', 'FAIL'] as const;
const REJECTION_ACTIONS = ['END', 'CONTINUE'] as const;
/** How many names a message lists before it says "and N more". */
const MAX_LISTED = 12;

// ---------------------------------------------------------------------------------------------
// Helpers shared with the definition classes (not public API of the library).
// ---------------------------------------------------------------------------------------------

/**
 * The name jsii gives a TypeScript member in Python: snake case, with `KiB`/`MiB`/`GiB` kept as
 * one word (`memoryLimitMiB` is `memory_limit_mib`), as jsii-pacmak's `toSnakeCase` does. Each
 * part of a dotted path is converted (`healthCheck.startPeriod` is `health_check.start_period`).
 */
export function pythonName(name: string): string {
  return name.split('.').map((part) => part
    .replace(/(^|[^A-Z])(KiB|MiB|GiB)($|[^a-z])/g, (_m, before: string, abbr: string, after: string) => `${before}${abbr[0]}${abbr.slice(1).toLowerCase()}${after}`)
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z\d]+)/g, '$1_$2')
    .toLowerCase()).join('.');
}

/**
 * How an error message first names a prop: `minSuccessful (min_successful in Python)`, or just
 * the name where both languages spell it alike (`timeout`). Later mentions in the same message
 * use the TypeScript name alone.
 */
export function propName(prop: string): string {
  const space = prop.lastIndexOf(' '); // `retry maxAttempts`: words before the name stay as they are
  const name = prop.slice(space + 1);
  const py = pythonName(name);
  return py === name ? prop : `${prop} (${py} in Python)`;
}

/** `90` -> `1 minute 30 seconds`, `604800` -> `7 days`. */
export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds < 0) return `-${humanDuration(-seconds)}`;
  if (seconds === 0) return '0 seconds';
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
    rest -= n * size;
  }
  if (rest > 0) {
    const s = Math.round(rest * 1000) / 1000;
    parts.push(`${s} second${s === 1 ? '' : 's'}`);
  }
  return parts.join(' ');
}

/** A range in human units: `between 1 second and 7 days`. */
export function humanRange(minSeconds: number, maxSeconds: number): string {
  return `between ${humanDuration(minSeconds)} and ${humanDuration(maxSeconds)}`;
}

/** The problem with a step, branch or workflow name, or undefined when it is valid. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length === 0) {
    return 'it has no name: give it a name of letters, digits, \'-\' and \'_\' that starts with a letter (at most 63 characters)';
  }
  if (LIMITS.namePattern.test(name)) return undefined;
  return `name ${JSON.stringify(name)} is not valid: a name starts with a letter, contains only letters, digits, '-' and '_', `
    + `and has at most 63 characters; rename it, for example to '${suggestName(name)}'`;
}

/** A valid name close to `name`. */
export function suggestName(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z]+/, '');
  if (s.length === 0) s = 'step';
  return s.slice(0, 63);
}

/** The problem with a dot path (`artifacts.report`), or undefined when it is valid. */
export function pathProblem(path: unknown, allowEmpty: boolean): string | undefined {
  if (typeof path !== 'string') return 'has no path: give a dot path such as \'topic\' or \'artifacts.report\'';
  if (path === '') {
    return allowEmpty ? undefined : 'has an empty path: give a dot path such as \'artifacts.report\'';
  }
  if (path.split('.').some((segment) => segment.length === 0)) {
    return `has path ${JSON.stringify(path)}, which has an empty segment: write a dot path such as 'parameters.depth' (no leading, trailing or double dots)`;
  }
  return undefined;
}

/** Names quoted and comma-separated, at most `MAX_LISTED` of them. */
function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED).map((n) => `'${n}'`).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isWholeNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function caseLabel(equals: unknown): string {
  return `case ${JSON.stringify(equals)}`;
}

// ---------------------------------------------------------------------------------------------
// Where each step is
// ---------------------------------------------------------------------------------------------

/** One container a step is nested in: a branch of a parallel step or an arm of a choice step. */
interface Arm {
  readonly container: string;
  readonly type: 'parallel' | 'choice';
  /** `branch 'a'`, `case "yes"`, `the otherwise steps` */
  readonly arm: string;
  /** A parallel step whose branches may fail without failing it. */
  readonly partial: boolean;
  readonly minSuccessful?: number;
  readonly branchCount?: number;
}

interface Located {
  readonly step: Record<string, unknown>;
  readonly name: string | undefined;
  /** Position in document order. */
  readonly index: number;
  /** Human description of where it is. */
  readonly where: string;
  /** Containers, outermost first. */
  readonly arms: readonly Arm[];
}

function stepLabel(l: Pick<Located, 'name' | 'where'>): string {
  return l.name !== undefined && l.name.length > 0 ? `step '${l.name}'` : `the step at ${l.where}`;
}

/** Collects every step with its location; reports shape problems that stop the walk. */
class Locator {
  public readonly located: Located[] = [];
  /** Located steps by object (a list, in case one object appears twice in a document). */
  public readonly byStep = new Map<unknown, Located[]>();

  constructor(private readonly problems: string[]) {}

  /** Visits a list of steps (anything else is skipped: the checks of its owner report it). */
  public visit(steps: unknown, where: (i: number) => string, arms: readonly Arm[]): void {
    if (!Array.isArray(steps)) return;
    steps.forEach((raw, i) => {
      const position = where(i);
      if (!isObject(raw)) {
        this.problems.push(`the step at ${position} is not an object: give a step with a type and a name`);
        return;
      }
      const name = typeof raw.name === 'string' ? raw.name : undefined;
      const located: Located = { step: raw, name, index: this.located.length, where: position, arms };
      this.located.push(located);
      this.byStep.set(raw, [...(this.byStep.get(raw) ?? []), located]);
      const label = stepLabel(located);
      if (raw.type === 'parallel') {
        const branches = Array.isArray(raw.branches) ? raw.branches : [];
        const minSuccessful = isWholeNumber(raw.minSuccessful) ? raw.minSuccessful : branches.length;
        branches.forEach((branch: unknown, b: number) => {
          if (!isObject(branch)) return; // reported by the parallel checks
          const branchName = typeof branch.name === 'string' && branch.name ? `branch '${branch.name}'` : `branch ${b + 1}`;
          const arm: Arm = {
            container: name ?? '',
            type: 'parallel',
            arm: branchName,
            partial: minSuccessful < branches.length,
            minSuccessful,
            branchCount: branches.length,
          };
          this.visit(branch.steps, (j) => `position ${j + 1} of ${branchName} of ${label}`, [...arms, arm]);
        });
      } else if (raw.type === 'choice') {
        const cases = Array.isArray(raw.cases) ? raw.cases : [];
        cases.forEach((c: unknown) => {
          if (!isObject(c)) return; // reported by the choice checks
          const arm: Arm = { container: name ?? '', type: 'choice', arm: caseLabel(c.equals), partial: false };
          this.visit(c.steps, (j) => `position ${j + 1} of ${arm.arm} of ${label}`, [...arms, arm]);
        });
        if (raw.otherwise !== undefined) {
          const arm: Arm = { container: name ?? '', type: 'choice', arm: 'the otherwise steps', partial: false };
          this.visit(raw.otherwise, (j) => `position ${j + 1} of the otherwise steps of ${label}`, [...arms, arm]);
        }
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// validateDefinition
// ---------------------------------------------------------------------------------------------

/**
 * Every problem of a workflow definition document, each naming the step (or the workflow) and
 * saying how to fix it. An empty list means the definition is valid.
 */
export function validateDefinition(doc: WorkflowDefinitionDocument, options: ValidateOptions = {}): string[] {
  const problems: string[] = [];
  const raw: unknown = doc;
  if (!isObject(raw)) {
    return ['definition: it is not a JSON object: pass a workflow definition document (WorkflowDefinition.toJson())'];
  }
  const workflowLabel = typeof raw.name === 'string' && raw.name ? `workflow '${raw.name}'` : 'workflow';

  if (raw.schemaVersion !== DEFINITION_SCHEMA_VERSION) {
    problems.push(`${workflowLabel}: schemaVersion is ${JSON.stringify(raw.schemaVersion)}, but this version of cdk-durable-agents `
      + `reads schemaVersion ${DEFINITION_SCHEMA_VERSION}: render the definition again with the same version of the library that runs it`);
  }
  const workflowNameProblem = nameProblem(raw.name);
  if (workflowNameProblem) problems.push(`workflow: ${workflowNameProblem.replace(/^name/, 'workflow name')}`);
  if (raw.description !== undefined && typeof raw.description !== 'string') {
    problems.push(`${workflowLabel}: description is not a string: give a text description or leave it out`);
  }
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) {
    problems.push(`${workflowLabel}: it has no steps: add at least one step`);
    if (!Array.isArray(raw.steps)) return problems;
  }

  const locator = new Locator(problems);
  locator.visit(raw.steps, (i) => `position ${i + 1} of the workflow's steps`, []);
  const located = locator.located;

  if (located.length > LIMITS.maxSteps) {
    problems.push(`${workflowLabel}: it has ${located.length} steps (nested steps included), more than the limit of ${LIMITS.maxSteps}: `
      + 'split it into smaller workflows');
  }

  // Names: valid and unique across the whole definition.
  const byName = new Map<string, Located[]>();
  for (const l of located) {
    const problem = nameProblem(l.step.name);
    if (problem) problems.push(`${stepLabel(l)}: ${problem}`);
    if (l.name) byName.set(l.name, [...(byName.get(l.name) ?? []), l]);
  }
  for (const [name, all] of byName) {
    if (all.length > 1) {
      problems.push(`step '${name}': the name is used ${all.length} times (at ${all.map((l) => l.where).join(' and at ')}); `
        + 'step names must be unique across the whole definition, nested steps included: rename all but one of them');
    }
  }

  // Per-step checks.
  for (const l of located) checkStep(l, problems, options);
  if (raw.budget !== undefined) checkBudget(raw.budget, `${workflowLabel}: budget`, problems, true);

  // References: a step may only read the output of a step that has certainly run before it.
  const refs = new ReferenceChecker(byName, locator.byStep, problems);
  refs.sequence(raw.steps as unknown[], new Set());

  // The declared input, and the steps' reads of it.
  problems.push(...inputDeclarationProblems(doc, workflowLabel));

  return problems;
}

function checkStep(l: Located, problems: string[], options: ValidateOptions): void {
  const s = l.step;
  const label = stepLabel(l);
  switch (s.type) {
    case 'agent': return checkAgentStep(s, label, problems, options);
    case 'approval': return checkApprovalStep(s, label, problems);
    case 'parallel': return checkParallelStep(s, label, problems);
    case 'choice': return checkChoiceStep(s, label, problems);
    case 'publish': return checkPublishStep(s, label, problems);
    default:
      problems.push(`${label}: type ${JSON.stringify(s.type)} is not a step type: use one of ${STEP_TYPES.join(', ')}`);
  }
}

/** Range check of a whole number of seconds; pushes a message naming `what`. */
function checkSeconds(problems: string[], label: string, what: string, value: unknown, min: number, max: number, why: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.push(`${label}: ${what} is missing or not a number: set a ${what} ${humanRange(min, max)}`);
  } else if (!Number.isInteger(value)) {
    problems.push(`${label}: ${what} ${value} seconds is not a whole number of seconds: round it to whole seconds`);
  } else if (value < min || value > max) {
    problems.push(`${label}: ${what} ${humanDuration(value)} is out of range: ${why} must be ${humanRange(min, max)}; set a ${what} in that range`);
  }
}

/**
 * A budget: an object of optional limits (a workflow's also wall-clock time and agent attempts),
 * each a positive number in range, at least one set.
 */
function checkBudget(budget: unknown, label: string, problems: string[], workflow: boolean): void {
  const limits: Record<string, { min: number; max: number; integer: boolean; what: string }> = {
    maxTokens: { min: 1, max: LIMITS.maxBudgetTokens, integer: true, what: 'tokens (input plus output)' },
    maxCostUsd: { min: 0.000001, max: LIMITS.maxBudgetCostUsd, integer: false, what: 'US dollars (estimated)' },
    ...(workflow ? {
      maxDurationSeconds: { min: LIMITS.minBudgetDurationSeconds, max: LIMITS.maxBudgetDurationSeconds, integer: true, what: 'seconds' },
      maxAgentAttempts: { min: 1, max: LIMITS.maxBudgetAgentAttempts, integer: true, what: 'agent attempts' },
    } : {}),
  };
  if (!isObject(budget)) {
    problems.push(`${label} is not an object: give ${Object.keys(limits).join(', ')} (each optional), or no budget`);
    return;
  }
  const unknown = Object.keys(budget).filter((k) => !(k in limits));
  if (unknown.length > 0) {
    problems.push(`${label} has unknown limit${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}: `
      + `a ${workflow ? 'workflow' : 'step'} budget takes ${Object.keys(limits).join(', ')}`);
  }
  const known = Object.keys(budget).filter((k) => k in limits);
  if (known.length === 0 && unknown.length === 0) problems.push(`${label} sets no limit: set at least one of ${Object.keys(limits).join(', ')}, or leave the budget out`);
  for (const key of known) {
    const value = budget[key];
    const rule = limits[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < rule.min || value > rule.max || (rule.integer && !Number.isInteger(value))) {
      problems.push(`${label} ${key} ${JSON.stringify(value)} is not valid: it must be ${rule.integer ? 'a whole number' : 'a number'} `
        + `of ${rule.what} from ${rule.min} to ${rule.max}`);
    }
  }
}

function checkAgentStep(s: Record<string, unknown>, label: string, problems: string[], options: ValidateOptions): void {
  if (s.budget !== undefined) checkBudget(s.budget, `${label}: budget`, problems, false);
  if (typeof s.agent !== 'string' || s.agent.trim().length === 0) {
    problems.push(`${label}: the agent name is empty: name the agent that runs this step `
      + '(a ContainerAgent, or WorkflowAgent.named(\'researcher\'))');
  } else if (!LIMITS.namePattern.test(s.agent)) {
    // Agent names become artifact prefixes (agents/<agent>/) and parts of IAM resource patterns.
    problems.push(`${label}: agent name ${JSON.stringify(s.agent)} is not valid: an agent name starts with a letter, contains only `
      + 'letters, digits, \'-\' and \'_\', and has at most 63 characters (it becomes an artifact prefix and part of IAM resource names); '
      + `rename the agent, for example to '${suggestName(s.agent)}'`);
  } else if (options.knownAgents !== undefined && !options.knownAgents.includes(s.agent)) {
    problems.push(options.knownAgents.length === 0
      ? `${label}: agent '${s.agent}' is not known (no agents are configured): add an agent named '${s.agent}'`
      : `${label}: agent '${s.agent}' is not one of the known agents (${listNames(options.knownAgents)}): `
        + `use one of them, or add an agent named '${s.agent}'`);
  }
  if (!isObject(s.input)) {
    problems.push(`${label}: input is not an object: give a map of input names to values (an empty map when the agent needs none)`);
  } else {
    for (const key of Object.keys(s.input)) {
      if (key.trim().length === 0) problems.push(`${label}: an input has an empty name: give every input a name`);
    }
  }
  checkSeconds(problems, label, 'timeout', s.timeoutSeconds, LIMITS.minAgentTimeoutSeconds, LIMITS.maxAgentTimeoutSeconds,
    'an agent step\'s timeout (one attempt)');
  if (s.heartbeatTimeoutSeconds !== undefined) {
    const hb = s.heartbeatTimeoutSeconds;
    if (!isWholeNumber(hb) || hb < 1) {
      problems.push(`${label}: heartbeat timeout ${JSON.stringify(hb)} is not a whole number of seconds of at least 1: `
        + 'set it to at least 1 second, or leave it out');
    } else if (typeof s.timeoutSeconds === 'number' && hb >= s.timeoutSeconds) {
      problems.push(`${label}: heartbeat timeout ${humanDuration(hb)} is not shorter than the step timeout `
        + `${humanDuration(s.timeoutSeconds)}: make the heartbeat timeout shorter than the timeout, or leave it out`);
    }
  }
  checkRetry(s.retry, label, problems);
}

function checkRetry(retry: unknown, label: string, problems: string[]): void {
  if (!isObject(retry)) {
    problems.push(`${label}: retry is missing: give a retry policy (RetryPolicy.none() for a single attempt)`);
    return;
  }
  const { maxAttempts, initialDelaySeconds, maxDelaySeconds, backoffRate } = retry;
  if (!isWholeNumber(maxAttempts) || maxAttempts < 1 || maxAttempts > LIMITS.maxRetryAttempts) {
    problems.push(`${label}: retry ${propName('maxAttempts')} ${JSON.stringify(maxAttempts)} is out of range: attempts (the first one included) `
      + `must be a whole number from 1 to ${LIMITS.maxRetryAttempts}; set maxAttempts in that range`);
  }
  for (const [what, value] of [['initial delay', initialDelaySeconds], ['max delay', maxDelaySeconds]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > LIMITS.maxRetryDelaySeconds) {
      const shown = typeof value === 'number' ? humanDuration(value) : JSON.stringify(value);
      problems.push(`${label}: retry ${what} ${shown} is out of range: it must be ${humanRange(0, LIMITS.maxRetryDelaySeconds)}; `
        + `set the ${what} in that range`);
    }
  }
  if (typeof backoffRate !== 'number' || !Number.isFinite(backoffRate) || backoffRate < 1) {
    problems.push(`${label}: retry ${propName('backoffRate')} ${JSON.stringify(backoffRate)} is less than 1 (delays would shrink): `
      + 'set a backoffRate of 1 (constant delay) or more');
  }
}

function checkApprovalStep(s: Record<string, unknown>, label: string, problems: string[]): void {
  if (typeof s.prompt !== 'string' || s.prompt.trim().length === 0) {
    problems.push(`${label}: the prompt is empty: say what the approver is asked to decide`);
  } else if (s.prompt.length > LIMITS.maxPromptLength) {
    problems.push(`${label}: the prompt has ${s.prompt.length} characters, more than the limit of ${LIMITS.maxPromptLength}: `
      + 'shorten it and link to the details (for example the artifact to review)');
  }
  checkSeconds(problems, label, 'timeout', s.timeoutSeconds, LIMITS.minApprovalTimeoutSeconds, LIMITS.maxApprovalTimeoutSeconds,
    'an approval\'s timeout');
  if (!(APPROVAL_TIMEOUT_ACTIONS as readonly unknown[]).includes(s.onTimeout)) {
    problems.push(`${label}: onTimeout ${JSON.stringify(s.onTimeout)} is not valid: use one of ${APPROVAL_TIMEOUT_ACTIONS.join(', ')}`);
  }
  if (!(REJECTION_ACTIONS as readonly unknown[]).includes(s.onReject)) {
    problems.push(`${label}: onReject ${JSON.stringify(s.onReject)} is not valid: use one of ${REJECTION_ACTIONS.join(', ')}`);
  }
}

function checkParallelStep(s: Record<string, unknown>, label: string, problems: string[]): void {
  if (!Array.isArray(s.branches) || s.branches.length === 0) {
    problems.push(`${label}: it has no branches: give a parallel step at least one branch`);
    return;
  }
  const branches = s.branches as unknown[];
  if (branches.length > LIMITS.maxParallelBranches) {
    problems.push(`${label}: it has ${branches.length} branches, more than the limit of ${LIMITS.maxParallelBranches}: `
      + 'split it into several parallel steps');
  }
  const seen = new Map<string, number>();
  branches.forEach((branch, b) => {
    if (!isObject(branch)) {
      problems.push(`${label}: branch ${b + 1} is not an object: give each branch a name and steps`);
      return;
    }
    const problem = nameProblem(branch.name);
    const branchLabel = typeof branch.name === 'string' && branch.name ? `branch '${branch.name}'` : `branch ${b + 1}`;
    if (problem) problems.push(`${label}: branch ${b + 1}: ${problem}`);
    if (typeof branch.name === 'string' && branch.name) {
      const first = seen.get(branch.name);
      if (first !== undefined) {
        problems.push(`${label}: branch name '${branch.name}' is used by branches ${first + 1} and ${b + 1}: `
          + 'branch names must be unique within a parallel step; rename one of them');
      } else {
        seen.set(branch.name, b);
      }
    }
    if (!Array.isArray(branch.steps) || branch.steps.length === 0) {
      problems.push(`${label}: ${branchLabel} has no steps: give every branch at least one step, or remove it`);
    }
  });
  if (!isWholeNumber(s.maxConcurrency) || s.maxConcurrency < 1) {
    problems.push(`${label}: ${propName('maxConcurrency')} ${JSON.stringify(s.maxConcurrency)} is not valid: set a whole number of at least 1 `
      + `(${branches.length} runs every branch at once)`);
  }
  if (!isWholeNumber(s.minSuccessful) || s.minSuccessful < 1 || s.minSuccessful > branches.length) {
    problems.push(`${label}: ${propName('minSuccessful')} ${JSON.stringify(s.minSuccessful)} is out of range: it must be a whole number from 1 `
      + `to the number of branches (${branches.length}); set it in that range`);
  }
}

function checkChoiceStep(s: Record<string, unknown>, label: string, problems: string[]): void {
  if (!Array.isArray(s.cases) || s.cases.length === 0) {
    problems.push(`${label}: it has no cases: give a choice step at least one case`);
  } else {
    const seen = new Set<string>();
    (s.cases as unknown[]).forEach((c, i) => {
      if (!isObject(c)) {
        problems.push(`${label}: case ${i + 1} is not an object: give each case a value to compare (equals) and steps`);
        return;
      }
      const t = typeof c.equals;
      if (t !== 'string' && t !== 'number' && t !== 'boolean') {
        problems.push(`${label}: case ${i + 1} compares with ${JSON.stringify(c.equals)}: compare with a string, a number or a boolean`);
        return;
      }
      const key = `${t}:${String(c.equals)}`;
      if (seen.has(key)) {
        problems.push(`${label}: ${caseLabel(c.equals)} appears more than once; only the first would ever run: `
          + 'remove the duplicate case or merge its steps into the first one');
      }
      seen.add(key);
      if (!Array.isArray(c.steps)) problems.push(`${label}: ${caseLabel(c.equals)} has no list of steps: give it a list (it may be empty)`);
    });
  }
  if (s.otherwise !== undefined && !Array.isArray(s.otherwise)) {
    problems.push(`${label}: otherwise is not a list of steps: give a list (it may be empty)`);
  }
  if (!isObject(s.value)) problems.push(`${label}: value is missing: give the value the cases are compared with`);
}

function checkPublishStep(s: Record<string, unknown>, label: string, problems: string[]): void {
  if (!isObject(s.artifact)) {
    problems.push(`${label}: artifact is missing: publish an artifact of an earlier step, e.g. StepInput.fromArtifact('writing', 'report')`);
  } else if (s.artifact.from !== 'step') {
    problems.push(`${label}: artifact comes from ${s.artifact.from === 'input' ? 'the workflow input' : `a ${JSON.stringify(s.artifact.from)} value`}, `
      + 'but only an artifact written by an earlier step can be published: use a step reference such as '
      + 'StepInput.fromArtifact(\'writing\', \'report\')');
  }
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

interface Reference {
  readonly what: string;
  readonly ref: unknown;
  /** A publish artifact needs a non-empty path. */
  readonly needsPath: boolean;
}

function referencesOf(s: Record<string, unknown>): Reference[] {
  switch (s.type) {
    case 'agent':
      return isObject(s.input) ? Object.entries(s.input).map(([k, ref]) => ({ what: `input '${k}'`, ref, needsPath: false })) : [];
    case 'choice':
      return isObject(s.value) ? [{ what: 'value', ref: s.value, needsPath: false }] : [];
    case 'publish':
      return isObject(s.artifact) ? [{ what: 'artifact', ref: s.artifact, needsPath: true }] : [];
    default:
      return [];
  }
}

class ReferenceChecker {
  constructor(
    private readonly byName: ReadonlyMap<string, readonly Located[]>,
    private readonly byStep: Map<unknown, Located[]>,
    private readonly problems: string[],
  ) {}

  /** Checks a sequence of steps; returns the names certainly completed after it. */
  public sequence(steps: readonly unknown[], before: ReadonlySet<string>): Set<string> {
    const available = new Set(before);
    for (const raw of steps) {
      const l = this.byStep.get(raw)?.shift();
      if (!l) continue;
      for (const r of referencesOf(l.step)) this.reference(l, r, available);
      const s = l.step;
      if (s.type === 'parallel' && Array.isArray(s.branches)) {
        const branches = s.branches.filter(isObject);
        const all = branches.length === s.branches.length
          && (!isWholeNumber(s.minSuccessful) || s.minSuccessful >= branches.length);
        // Branches run side by side: each sees only what ran before the parallel step. Outputs
        // of branch steps are certain afterwards only when every branch must succeed.
        const fromBranches = branches.flatMap((branch) => [...this.sequence(Array.isArray(branch.steps) ? branch.steps : [], available)]);
        if (all) for (const n of fromBranches) available.add(n);
      } else if (s.type === 'choice') {
        for (const c of Array.isArray(s.cases) ? s.cases.filter(isObject) : []) {
          this.sequence(Array.isArray(c.steps) ? c.steps : [], available);
        }
        this.sequence(Array.isArray(s.otherwise) ? s.otherwise : [], available);
      }
      if (l.name) available.add(l.name);
    }
    return available;
  }

  private reference(l: Located, r: Reference, available: ReadonlySet<string>): void {
    const label = stepLabel(l);
    const ref = r.ref;
    if (!isObject(ref)) {
      this.problems.push(`${label}: ${r.what} is not a value reference: use StepInput (workflow input, step output, artifact or literal)`);
      return;
    }
    if (ref.from === 'literal') {
      const t = typeof ref.value;
      if (t !== 'string' && t !== 'boolean' && !(t === 'number' && Number.isFinite(ref.value))) {
        this.problems.push(`${label}: ${r.what} is a literal ${JSON.stringify(ref.value)}: a literal must be a string, a finite number or a boolean`);
      }
      return;
    }
    if (ref.from === 'input') {
      const p = pathProblem(ref.path, true);
      if (p) this.problems.push(`${label}: ${r.what} ${p}`);
      if (ref.optional !== undefined && typeof ref.optional !== 'boolean') {
        this.problems.push(`${label}: ${r.what} has optional ${JSON.stringify(ref.optional)}: set optional to true or false, or leave it out`);
      }
      return;
    }
    if (ref.from !== 'step') {
      this.problems.push(`${label}: ${r.what} reads from ${JSON.stringify(ref.from)}: a value comes from 'input', 'step' or 'literal'`);
      return;
    }
    const p = pathProblem(ref.path, !r.needsPath);
    if (p) this.problems.push(`${label}: ${r.what} ${p}`);
    if (typeof ref.step !== 'string' || ref.step.length === 0) {
      this.problems.push(`${label}: ${r.what} refers to no step: name the earlier step whose output it reads`);
      return;
    }
    if (available.has(ref.step) && ref.step !== l.name) return;
    this.problems.push(`${label}: ${r.what} refers to step '${ref.step}', ${this.whyUnavailable(l, ref.step, available)}`);
  }

  private whyUnavailable(l: Located, target: string, available: ReadonlySet<string>): string {
    const earlier = [...available];
    const useEarlier = earlier.length > 0
      ? `refer to a step that runs before it (${listNames(earlier)})`
      : 'read the workflow input instead (no step runs before it)';
    if (target === l.name) return `which is itself; a step can only read the output of steps that ran before it: ${useEarlier}`;
    const candidates = this.byName.get(target);
    if (!candidates || candidates.length === 0) {
      return `which is not a step of this definition: fix the name, or ${useEarlier}`;
    }
    const t = candidates[0];
    if (l.arms.some((a) => a.container === target)) {
      return `which contains it and has not finished when this step runs: ${useEarlier}`;
    }
    if (t.arms.some((a) => a.container === l.name)) {
      return `which is nested inside it and runs after its value is read: ${useEarlier}`;
    }
    // The innermost container both are in, if they are in different arms of it.
    for (let i = 0; i < Math.min(l.arms.length, t.arms.length); i++) {
      const la = l.arms[i];
      const ta = t.arms[i];
      if (la.container !== ta.container) break;
      if (la.arm !== ta.arm) {
        return la.type === 'parallel'
          ? `which is in another branch (${ta.arm}) of parallel step '${ta.container}' and runs at the same time: `
            + `move '${target}' before '${ta.container}', or read its output after '${ta.container}' has finished`
          : `which is in another case (${ta.arm}) of choice step '${ta.container}', and never runs together with it: `
            + `move '${target}' before '${ta.container}', or ${useEarlier}`;
      }
    }
    if (t.index > l.index) {
      return `which runs after it: move '${target}' before '${l.name ?? 'it'}', or ${useEarlier}`;
    }
    // Where the target's nesting leaves the referencing step's: the first arm that may not run.
    const diverge = t.arms.findIndex((a, i) => l.arms[i]?.container !== a.container || l.arms[i]?.arm !== a.arm);
    const outer = diverge < 0 ? undefined : t.arms.slice(diverge).find((a) => a.type === 'choice' || a.partial);
    if (outer && outer.type === 'choice') {
      return `which runs only in ${outer.arm} of choice step '${outer.container}', so it may not have run: `
        + `read it from inside that case, or ${useEarlier}`;
    }
    if (outer && outer.type === 'parallel') {
      return `which is in ${outer.arm} of parallel step '${outer.container}', whose branches may fail without failing it `
        + `(only ${outer.minSuccessful} of its ${outer.branchCount} branches must succeed), so its output may be missing: `
        + `set ${propName('minSuccessful')} of '${outer.container}' to ${outer.branchCount}, or read it from inside the same branch`;
    }
    return `which has not certainly run before it: ${useEarlier}`;
  }
}

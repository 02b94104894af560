import * as fc from 'fast-check';
import { allSteps, LIMITS } from '../../src/contract/definition';
import type { StepDocument, ValueRef, WorkflowDefinitionDocument } from '../../src/contract/definition';
import { humanDuration, pathProblem, suggestName, validateDefinition } from '../../src/contract/validate';
import { AGENT_POOL, validWorkflow } from '../workflow/arbitraries';

// Documents are built loosely here on purpose: the validator must cope with what a runtime is
// handed, not only with what the classes render.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Loose = any;

const retry = { maxAttempts: 3, initialDelaySeconds: 10, backoffRate: 2, maxDelaySeconds: 300 };

function agent(name: string, input: Record<string, ValueRef> = {}, extra: Record<string, unknown> = {}): Loose {
  return { type: 'agent', name, agent: 'researcher', input, timeoutSeconds: 3600, retry: { ...retry }, ...extra };
}
function approval(name: string, extra: Record<string, unknown> = {}): Loose {
  return { type: 'approval', name, prompt: 'Approve?', timeoutSeconds: 86400, onTimeout: 'REJECT', onReject: 'END', ...extra };
}
function parallel(name: string, branches: [string, Loose[]][], extra: Record<string, unknown> = {}): Loose {
  return {
    type: 'parallel',
    name,
    branches: branches.map(([n, steps]) => ({ name: n, steps })),
    maxConcurrency: branches.length,
    minSuccessful: branches.length,
    ...extra,
  };
}
function choice(name: string, value: ValueRef, cases: [string | number | boolean, Loose[]][], otherwise: Loose[] = []): Loose {
  return { type: 'choice', name, value, cases: cases.map(([equals, steps]) => ({ equals, steps })), otherwise };
}
function publish(name: string, artifact: ValueRef): Loose {
  return { type: 'publish', name, artifact };
}
const ref = (step: string, path = ''): ValueRef => ({ from: 'step', step, path });
function doc(steps: Loose[], extra: Record<string, unknown> = {}): WorkflowDefinitionDocument {
  return { schemaVersion: 1, name: 'wf', steps, ...extra } as Loose;
}
/** Problems of a document; fails the test if any of them does not start with the step or workflow. */
function problemsOf(d: unknown, knownAgents?: string[]): string[] {
  const problems = validateDefinition(d as WorkflowDefinitionDocument, { knownAgents });
  for (const p of problems) expect(p).toMatch(/^(step '[^']*'|workflow( '[^']*')?|the step at [^:]+|definition): /);
  return problems;
}
/** The single problem of a document. */
function onlyProblem(d: unknown, knownAgents?: string[]): string {
  const problems = problemsOf(d, knownAgents);
  expect(problems).toHaveLength(1);
  return problems[0];
}

describe('validateDefinition: a valid definition', () => {
  test('has no problems', () => {
    const d = doc([
      agent('research', { topic: { from: 'input', path: 'topic' } }),
      parallel('fan', [['a', [agent('a1', { r: ref('research', 'artifacts.research') })]], ['b', [approval('b1')]]]),
      choice('route', ref('b1', 'outcome'), [['APPROVED', [agent('c1', { x: ref('a1') })]]], [agent('c2')]),
      publish('publish', ref('a1', 'artifacts.x')),
    ], { description: 'd' });
    expect(problemsOf(d, ['researcher'])).toEqual([]);
  });

  test('never throws on malformed input, and says what is wrong', () => {
    for (const bad of [null, 42, 'x', [], { steps: 'no' }, { schemaVersion: 1, name: 'w', steps: [null, 3] }]) {
      expect(() => validateDefinition(bad as Loose)).not.toThrow();
      expect(validateDefinition(bad as Loose).length).toBeGreaterThan(0);
    }
    expect(validateDefinition(null as Loose)[0]).toMatch(/^definition: it is not a JSON object: pass a workflow definition document/);
    expect(problemsOf({ schemaVersion: 1, name: 'w', steps: [null] })).toEqual([
      expect.stringMatching(/^the step at position 1 of the workflow's steps is not an object: give a step with a type and a name/),
    ]);
  });
});

describe('validateDefinition: the workflow', () => {
  test('schemaVersion must be the one this library reads', () => {
    expect(onlyProblem(doc([agent('a')], { schemaVersion: 2 })))
      .toMatch(/^workflow 'wf': schemaVersion is 2, but this version of cdk-durable-agents reads schemaVersion 1: render the definition again/);
  });

  test('the workflow name must be valid', () => {
    expect(onlyProblem(doc([agent('a')], { name: 'my workflow' })))
      .toMatch(/^workflow: workflow name "my workflow" is not valid: .*rename it, for example to 'my-workflow'/);
    expect(onlyProblem(doc([agent('a')], { name: '' }))).toMatch(/^workflow: it has no name: give it a name/);
  });

  test('a description must be text', () => {
    expect(onlyProblem(doc([agent('a')], { description: 3 }))).toMatch(/^workflow 'wf': description is not a string: give a text/);
  });

  test('it needs at least one step', () => {
    expect(onlyProblem(doc([]))).toMatch(/^workflow 'wf': it has no steps: add at least one step/);
    expect(onlyProblem({ schemaVersion: 1, name: 'wf' })).toMatch(/^workflow 'wf': it has no steps/);
  });

  test(`it has at most ${LIMITS.maxSteps} steps, nested ones included`, () => {
    const branches: [string, Loose[]][] = Array.from({ length: 2 }, (_, b) =>
      [`b${b}`, Array.from({ length: 100 }, (_x, i) => approval(`s${b}_${i}`))]);
    expect(onlyProblem(doc([parallel('p', branches)])))
      .toMatch(new RegExp(`^workflow 'wf': it has 201 steps \\(nested steps included\\), more than the limit of ${LIMITS.maxSteps}: split it`));
    branches[1][1].pop();
    expect(problemsOf(doc([parallel('p', branches)]))).toEqual([]);
  });

  test('an unknown step type is named, with the types there are', () => {
    expect(onlyProblem(doc([{ type: 'sleep', name: 'nap' }])))
      .toMatch(/^step 'nap': type "sleep" is not a step type: use one of agent, approval, parallel, choice, publish/);
  });
});

describe('validateDefinition: names', () => {
  test('a step name must match the name pattern; the message suggests one', () => {
    expect(onlyProblem(doc([agent('1st step')])))
      .toMatch(/^step '1st step': name "1st step" is not valid: a name starts with a letter.*rename it, for example to 'st-step'/);
    expect(onlyProblem(doc([agent('x'.repeat(64))]))).toMatch(/at most 63 characters; rename it/);
    expect(onlyProblem(doc([agent('')]))).toMatch(/^the step at position 1 of the workflow's steps: it has no name: give it a name/);
  });

  test('step names are unique across the whole definition; the message says where each one is', () => {
    const p = onlyProblem(doc([
      agent('dup'),
      parallel('p', [['a', [agent('x')]], ['b', [agent('y'), approval('dup')]]]),
    ]));
    expect(p).toBe('step \'dup\': the name is used 2 times (at position 1 of the workflow\'s steps and at position 2 of branch \'b\' '
      + 'of step \'p\'); step names must be unique across the whole definition, nested steps included: rename all but one of them');
  });

  test('duplicates inside choice cases and otherwise are found too', () => {
    const p = onlyProblem(doc([choice('c', { from: 'input', path: 'x' }, [['yes', [agent('d')]]], [agent('d')])]));
    expect(p).toMatch(/^step 'd': the name is used 2 times \(at position 1 of case "yes" of step 'c' and at position 1 of the otherwise steps of step 'c'\).*rename/);
  });

  test('branch names must be valid and unique within their parallel step', () => {
    expect(onlyProblem(doc([parallel('p', [['a', [agent('x')]], ['a', [agent('y')]]])])))
      .toMatch(/^step 'p': branch name 'a' is used by branches 1 and 2: branch names must be unique within a parallel step; rename one/);
    expect(onlyProblem(doc([parallel('p', [['bad branch', [agent('x')]]])])))
      .toMatch(/^step 'p': branch 1: name "bad branch" is not valid: .*rename it, for example to 'bad-branch'/);
    // The same branch name in two parallel steps is fine.
    expect(problemsOf(doc([parallel('p', [['a', [agent('x')]]]), parallel('q', [['a', [agent('y')]]])]))).toEqual([]);
  });
});

describe('validateDefinition: references', () => {
  test('a step may read the workflow input, literals, and steps that ran before it', () => {
    expect(problemsOf(doc([
      agent('a', { t: { from: 'input', path: '' }, l: { from: 'literal', value: false } }),
      agent('b', { r: ref('a', 'artifacts.report') }),
    ]))).toEqual([]);
  });

  test('not itself', () => {
    expect(onlyProblem(doc([agent('a'), agent('b', { x: ref('b') })])))
      .toBe('step \'b\': input \'x\' refers to step \'b\', which is itself; a step can only read the output of steps that ran before it: '
        + 'refer to a step that runs before it (\'a\')');
    expect(onlyProblem(doc([agent('b', { x: ref('b') })])))
      .toMatch(/which is itself; .*: read the workflow input instead \(no step runs before it\)$/);
  });

  test('not a later step', () => {
    expect(onlyProblem(doc([agent('a'), agent('b', { x: ref('c', 'artifacts.r') }), agent('c')])))
      .toBe('step \'b\': input \'x\' refers to step \'c\', which runs after it: move \'c\' before \'b\', or refer to a step that runs before it (\'a\')');
  });

  test('not an unknown step', () => {
    expect(onlyProblem(doc([agent('a'), agent('b', { x: ref('nope') })])))
      .toMatch(/^step 'b': input 'x' refers to step 'nope', which is not a step of this definition: fix the name, or refer to a step that runs before it \('a'\)$/);
  });

  test('not a step in a sibling parallel branch', () => {
    expect(onlyProblem(doc([parallel('p', [['a', [agent('a1')]], ['b', [agent('b1', { x: ref('a1') })]]])])))
      .toMatch(/^step 'b1': input 'x' refers to step 'a1', which is in another branch \(branch 'a'\) of parallel step 'p' and runs at the same time: move 'a1' before 'p', or read its output after 'p' has finished$/);
  });

  test('a branch step may read earlier steps of its own branch and steps before the parallel step', () => {
    expect(problemsOf(doc([agent('pre'), parallel('p', [['a', [agent('a1', { x: ref('pre') }), agent('a2', { y: ref('a1') })]]])]))).toEqual([]);
  });

  test('not the parallel or choice step that contains it', () => {
    expect(onlyProblem(doc([agent('pre'), parallel('p', [['a', [agent('a1', { x: ref('p') })]]])])))
      .toMatch(/^step 'a1': input 'x' refers to step 'p', which contains it and has not finished when this step runs: refer to a step that runs before it \('pre'\)$/);
  });

  test('a choice value may not read a step nested inside it', () => {
    expect(onlyProblem(doc([choice('c', ref('in'), [['x', [agent('in')]]])])))
      .toMatch(/^step 'c': value refers to step 'in', which is nested inside it and runs after its value is read: read the workflow input instead/);
  });

  test('after a parallel step that needs every branch, its branch steps may be read', () => {
    expect(problemsOf(doc([parallel('p', [['a', [agent('a1')]], ['b', [agent('b1')]]]), agent('after', { x: ref('a1'), y: ref('b1'), z: ref('p') })])))
      .toEqual([]);
  });

  test('after a parallel step whose branches may fail, its branch steps may not be read', () => {
    expect(onlyProblem(doc([parallel('p', [['a', [agent('a1')]], ['b', [agent('b1')]]], { minSuccessful: 1 }), agent('after', { x: ref('a1') })])))
      .toMatch(/^step 'after': input 'x' refers to step 'a1', which is in branch 'a' of parallel step 'p', whose branches may fail without failing it \(only 1 of its 2 branches must succeed\), so its output may be missing: set minSuccessful \(min_successful in Python\) of 'p' to 2, or read it from inside the same branch$/);
  });

  test('not a step inside a choice case that may not have run', () => {
    expect(onlyProblem(doc([choice('c', { from: 'input', path: 'kind' }, [['x', [agent('inX')]]]), publish('pub', ref('inX', 'artifacts.r'))])))
      .toMatch(/^step 'pub': artifact refers to step 'inX', which runs only in case "x" of choice step 'c', so it may not have run: read it from inside that case, or refer to a step that runs before it \('c'\)$/);
  });

  test('a choice nested in a branch: a later step of the branch cannot read inside the choice either', () => {
    expect(onlyProblem(doc([parallel('p', [['a', [choice('c', { from: 'input', path: 'k' }, [[1, [agent('in')]]]), agent('next', { x: ref('in') })]]])])))
      .toMatch(/^step 'next': input 'x' refers to step 'in', which runs only in case 1 of choice step 'c'/);
  });

  test('not a step in another case of the same choice', () => {
    expect(onlyProblem(doc([choice('c', { from: 'input', path: 'k' }, [[true, [agent('t')]]], [agent('o', { x: ref('t') })])])))
      .toMatch(/^step 'o': input 'x' refers to step 't', which is in another case \(case true\) of choice step 'c', and never runs together with it: move 't' before 'c'/);
  });

  test('inside a case, earlier steps of the same case and steps before the choice may be read', () => {
    expect(problemsOf(doc([agent('pre'), choice('c', ref('pre', 'kind'), [['x', [agent('x1', { a: ref('pre') }), agent('x2', { b: ref('x1') })]]])]))).toEqual([]);
  });

  test('paths are dot paths', () => {
    expect(onlyProblem(doc([agent('a', { t: { from: 'input', path: 'a..b' } })])))
      .toMatch(/^step 'a': input 't' has path "a..b", which has an empty segment: write a dot path such as 'parameters.depth'/);
    expect(onlyProblem(doc([agent('a'), agent('b', { t: { from: 'step', step: 'a', path: '.x' } as Loose })])))
      .toMatch(/^step 'b': input 't' has path ".x", which has an empty segment/);
    expect(onlyProblem(doc([agent('a', { t: { from: 'input' } as Loose })]))).toMatch(/^step 'a': input 't' has no path: give a dot path/);
    expect(problemsOf(doc([agent('a', { t: { from: 'input', path: 'p', optional: true } })]))).toEqual([]);
    expect(onlyProblem(doc([agent('a', { t: { from: 'input', path: 'p', optional: 'yes' } as Loose })])))
      .toMatch(/^step 'a': input 't' has optional "yes": set optional to true or false, or leave it out/);
  });

  test('a reference must say where the value comes from', () => {
    expect(onlyProblem(doc([agent('a', { t: { from: 'env', path: 'x' } as Loose })])))
      .toMatch(/^step 'a': input 't' reads from "env": a value comes from 'input', 'step' or 'literal'/);
    expect(onlyProblem(doc([agent('a', { t: { from: 'step', path: 'x' } as Loose })])))
      .toMatch(/^step 'a': input 't' refers to no step: name the earlier step/);
    expect(onlyProblem(doc([agent('a', { t: 'topic' as Loose })]))).toMatch(/^step 'a': input 't' is not a value reference: use StepInput/);
    expect(onlyProblem(doc([agent('a', { t: { from: 'literal', value: null } as Loose })])))
      .toMatch(/^step 'a': input 't' is a literal null: a literal must be a string, a finite number or a boolean/);
  });
});

describe('validateDefinition: agent steps', () => {
  test('the agent name must not be empty', () => {
    expect(onlyProblem(doc([agent('a', {}, { agent: ' ' })])))
      .toMatch(/^step 'a': the agent name is empty: name the agent that runs this step/);
  });

  test.each([['my agent', 'my-agent'], ['agents/../x', 'agents-x'], ['9lives', 'lives'], ['a*', 'a-'], ['x'.repeat(64), 'x'.repeat(63)]])(
    'the agent name %j must be usable as an artifact prefix and in IAM resource names', (name, suggestion) => {
      expect(onlyProblem(doc([agent('a', {}, { agent: name })]))).toBe(`step 'a': agent name ${JSON.stringify(name)} is not valid: `
        + 'an agent name starts with a letter, contains only letters, digits, \'-\' and \'_\', and has at most 63 characters '
        + `(it becomes an artifact prefix and part of IAM resource names); rename the agent, for example to '${suggestion}'`);
    });

  test('with known agents, the agent must be one of them, and the message lists them', () => {
    expect(onlyProblem(doc([agent('a', {}, { agent: 'writer' })]), ['researcher', 'analyst']))
      .toBe('step \'a\': agent \'writer\' is not one of the known agents (\'researcher\', \'analyst\'): use one of them, or add an agent named \'writer\'');
    expect(onlyProblem(doc([agent('a')]), [])).toMatch(/^step 'a': agent 'researcher' is not known \(no agents are configured\): add an agent named 'researcher'/);
    expect(problemsOf(doc([agent('a')]))).toEqual([]); // without known agents, any name goes
  });

  test('the input must be a map with named entries', () => {
    expect(onlyProblem(doc([agent('a', {}, { input: [] })]))).toMatch(/^step 'a': input is not an object: give a map/);
    expect(onlyProblem(doc([agent('a', { '': { from: 'input', path: '' } })]))).toMatch(/^step 'a': an input has an empty name: give every input a name/);
  });

  test.each([
    [0, /timeout 0 seconds is out of range: an agent step's timeout \(one attempt\) must be between 1 second and 7 days; set a timeout in that range/],
    [LIMITS.maxAgentTimeoutSeconds + 1, /timeout 7 days 1 second is out of range: .* between 1 second and 7 days/],
    [1.5, /timeout 1.5 seconds is not a whole number of seconds: round it/],
    [undefined, /timeout is missing or not a number: set a timeout between 1 second and 7 days/],
  ])('the timeout must be within the limits (%s)', (timeoutSeconds, message) => {
    expect(onlyProblem(doc([agent('slow', {}, { timeoutSeconds })]))).toMatch(new RegExp(`^step 'slow': ${message.source}`));
  });

  test('the limits themselves are allowed', () => {
    expect(problemsOf(doc([agent('a', {}, { timeoutSeconds: 1 }), agent('b', {}, { timeoutSeconds: LIMITS.maxAgentTimeoutSeconds })]))).toEqual([]);
  });

  test('the heartbeat timeout must be shorter than the timeout', () => {
    expect(onlyProblem(doc([agent('a', {}, { timeoutSeconds: 60, heartbeatTimeoutSeconds: 60 })])))
      .toMatch(/^step 'a': heartbeat timeout 1 minute is not shorter than the step timeout 1 minute: make the heartbeat timeout shorter/);
    expect(onlyProblem(doc([agent('a', {}, { heartbeatTimeoutSeconds: 0 })])))
      .toMatch(/^step 'a': heartbeat timeout 0 is not a whole number of seconds of at least 1: set it to at least 1 second, or leave it out/);
    expect(problemsOf(doc([agent('a', {}, { timeoutSeconds: 60, heartbeatTimeoutSeconds: 59 })]))).toEqual([]);
  });

  test.each([
    [{ maxAttempts: 0 }, /retry maxAttempts \(max_attempts in Python\) 0 is out of range: .*from 1 to 10; set maxAttempts in that range/],
    [{ maxAttempts: LIMITS.maxRetryAttempts + 1 }, /retry maxAttempts \(max_attempts in Python\) 11 is out of range/],
    [{ maxAttempts: 2.5 }, /retry maxAttempts \(max_attempts in Python\) 2.5 is out of range/],
    [{ initialDelaySeconds: -1 }, /retry initial delay -1 second is out of range: it must be between 0 seconds and 1 day; set the initial delay in that range/],
    [{ maxDelaySeconds: LIMITS.maxRetryDelaySeconds + 60 }, /retry max delay 1 day 1 minute is out of range: it must be between 0 seconds and 1 day/],
    [{ backoffRate: 0.5 }, /retry backoffRate \(backoff_rate in Python\) 0.5 is less than 1 \(delays would shrink\): set a backoffRate of 1 \(constant delay\) or more/],
  ])('the retry policy must be within the limits (%o)', (change, message) => {
    expect(onlyProblem(doc([agent('flaky', {}, { retry: { ...retry, ...change } })]))).toMatch(new RegExp(`^step 'flaky': ${message.source}`));
  });

  test('a retry policy is required', () => {
    expect(onlyProblem(doc([agent('a', {}, { retry: undefined })]))).toMatch(/^step 'a': retry is missing: give a retry policy \(RetryPolicy.none\(\)/);
  });
});

describe('validateDefinition: approval steps', () => {
  test('the prompt must not be empty, nor too long', () => {
    expect(onlyProblem(doc([approval('ok', { prompt: '  ' })]))).toMatch(/^step 'ok': the prompt is empty: say what the approver is asked to decide/);
    expect(onlyProblem(doc([approval('ok', { prompt: 'x'.repeat(LIMITS.maxPromptLength + 1) })])))
      .toMatch(/^step 'ok': the prompt has 2001 characters, more than the limit of 2000: shorten it/);
    expect(problemsOf(doc([approval('ok', { prompt: 'x'.repeat(LIMITS.maxPromptLength) })]))).toEqual([]);
  });

  test('the timeout must be within the limits', () => {
    expect(onlyProblem(doc([approval('ok', { timeoutSeconds: LIMITS.maxApprovalTimeoutSeconds + 86400 })])))
      .toMatch(/^step 'ok': timeout 31 days is out of range: an approval's timeout must be between 1 second and 30 days; set a timeout in that range/);
    expect(onlyProblem(doc([approval('ok', { timeoutSeconds: 0 })]))).toMatch(/^step 'ok': timeout 0 seconds is out of range/);
  });

  test('onTimeout and onReject must be known actions', () => {
    expect(onlyProblem(doc([approval('ok', { onTimeout: 'IGNORE' })]))).toMatch(/^step 'ok': onTimeout "IGNORE" is not valid: use one of REJECT, APPROVE, FAIL/);
    expect(onlyProblem(doc([approval('ok', { onReject: 'RETRY' })]))).toMatch(/^step 'ok': onReject "RETRY" is not valid: use one of END, CONTINUE/);
  });
});

describe('validateDefinition: parallel steps', () => {
  test('at least one branch, each with at least one step', () => {
    expect(onlyProblem(doc([parallel('p', [], { minSuccessful: 1, maxConcurrency: 1 })])))
      .toMatch(/^step 'p': it has no branches: give a parallel step at least one branch/);
    expect(onlyProblem(doc([parallel('p', [['a', []]])]))).toMatch(/^step 'p': branch 'a' has no steps: give every branch at least one step, or remove it/);
    expect(problemsOf(doc([{ type: 'parallel', name: 'p', branches: [7], maxConcurrency: 1, minSuccessful: 1 }])))
      .toContain('step \'p\': branch 1 is not an object: give each branch a name and steps');
  });

  test(`at most ${LIMITS.maxParallelBranches} branches`, () => {
    const branches: [string, Loose[]][] = Array.from({ length: LIMITS.maxParallelBranches + 1 }, (_, i) => [`b${i}`, [approval(`s${i}`)]]);
    expect(onlyProblem(doc([parallel('wide', branches)])))
      .toMatch(/^step 'wide': it has 51 branches, more than the limit of 50: split it into several parallel steps/);
    expect(problemsOf(doc([parallel('wide', branches.slice(1))]))).toEqual([]);
  });

  test('maxConcurrency at least 1', () => {
    expect(onlyProblem(doc([parallel('p', [['a', [agent('x')]]], { maxConcurrency: 0 })])))
      .toMatch(/^step 'p': maxConcurrency \(max_concurrency in Python\) 0 is not valid: set a whole number of at least 1/);
  });

  test.each([0, 3, 1.5])('minSuccessful from 1 to the number of branches (%s)', (minSuccessful) => {
    expect(onlyProblem(doc([parallel('p', [['a', [agent('x')]], ['b', [agent('y')]]], { minSuccessful })])))
      .toMatch(/^step 'p': minSuccessful .* is out of range: it must be a whole number from 1 to the number of branches \(2\); set it in that range/);
  });
});

describe('validateDefinition: choice steps', () => {
  const value: ValueRef = { from: 'input', path: 'kind' };
  test('at least one case', () => {
    expect(onlyProblem(doc([choice('c', value, [])]))).toMatch(/^step 'c': it has no cases: give a choice step at least one case/);
  });

  test('no case value twice; values of different types are different', () => {
    expect(onlyProblem(doc([choice('c', value, [['a', []], ['b', []], ['a', []]])])))
      .toMatch(/^step 'c': case "a" appears more than once; only the first would ever run: remove the duplicate case or merge/);
    expect(problemsOf(doc([choice('c', value, [['1', []], [1, []], [true, []], ['true', []]])]))).toEqual([]);
  });

  test('case values are strings, numbers or booleans; steps and otherwise are lists; value is set', () => {
    expect(onlyProblem(doc([choice('c', value, [[null as Loose, []]])]))).toMatch(/^step 'c': case 1 compares with null: compare with a string/);
    expect(onlyProblem(doc([{ ...choice('c', value, [['a', []]]), otherwise: 'x' }]))).toMatch(/^step 'c': otherwise is not a list of steps/);
    expect(onlyProblem(doc([{ ...choice('c', value, [['a', []]]), value: undefined }]))).toMatch(/^step 'c': value is missing: give the value/);
    expect(onlyProblem(doc([{ type: 'choice', name: 'c', value, cases: ['a'] }])))
      .toMatch(/^step 'c': case 1 is not an object: give each case a value to compare \(equals\) and steps/);
    expect(problemsOf(doc([{ type: 'choice', name: 'c', value, cases: [{ equals: 'a' }] }])))
      .toContain('step \'c\': case "a" has no list of steps: give it a list (it may be empty)');
  });
});

describe('validateDefinition: publish steps', () => {
  test('the artifact must be an earlier step\'s output', () => {
    expect(onlyProblem(doc([agent('w'), publish('pub', { from: 'input', path: 'report' })])))
      .toMatch(/^step 'pub': artifact comes from the workflow input, but only an artifact written by an earlier step can be published: use a step reference such as StepInput.fromArtifact/);
    expect(onlyProblem(doc([agent('w'), publish('pub', { from: 'literal', value: 's3://x' })])))
      .toMatch(/^step 'pub': artifact comes from a "literal" value, but only an artifact/);
    expect(onlyProblem(doc([agent('w'), { type: 'publish', name: 'pub' }]))).toMatch(/^step 'pub': artifact is missing: publish an artifact/);
  });

  test('the artifact path names an artifact, not the whole output', () => {
    expect(onlyProblem(doc([agent('w'), publish('pub', ref('w', ''))]))).toMatch(/^step 'pub': artifact has an empty path: give a dot path such as 'artifacts.report'/);
  });
});

describe('message helpers', () => {
  test('humanDuration', () => {
    expect(humanDuration(0)).toBe('0 seconds');
    expect(humanDuration(1)).toBe('1 second');
    expect(humanDuration(90)).toBe('1 minute 30 seconds');
    expect(humanDuration(7 * 86400)).toBe('7 days');
    expect(humanDuration(86400 + 3600 * 2)).toBe('1 day 2 hours');
    expect(humanDuration(-60)).toBe('-1 minute');
    expect(humanDuration(Number.POSITIVE_INFINITY)).toBe('Infinity');
  });

  test('suggestName always yields a valid name', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      expect(suggestName(s)).toMatch(LIMITS.namePattern);
    }));
  });

  test('pathProblem', () => {
    expect(pathProblem('', true)).toBeUndefined();
    expect(pathProblem('', false)).toMatch(/empty path/);
    expect(pathProblem('a.b', false)).toBeUndefined();
    expect(pathProblem('a.', true)).toMatch(/empty segment/);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------------

function mutable(d: WorkflowDefinitionDocument): Loose {
  return JSON.parse(JSON.stringify(d));
}

describe('validateDefinition: properties', () => {
  test('random valid definitions have no problems, with or without the known agents', () => {
    fc.assert(fc.property(validWorkflow, ({ document }) => {
      expect(validateDefinition(document)).toEqual([]);
      expect(validateDefinition(document, { knownAgents: AGENT_POOL })).toEqual([]);
    }), { numRuns: 300 });
  });

  test('a duplicated step name is always reported with the name and both places', () => {
    fc.assert(fc.property(validWorkflow, fc.nat(), fc.nat(), ({ document }, i, j) => {
      const d = mutable(document);
      const steps: Loose[] = allSteps(d.steps);
      fc.pre(steps.length >= 2);
      const a = i % steps.length;
      const b = (a + 1 + (j % (steps.length - 1))) % steps.length;
      steps[b].name = steps[a].name;
      const problems = validateDefinition(d);
      const dup = problems.filter((p) => p.startsWith(`step '${steps[a].name}': the name is used 2 times (at position`));
      expect(dup).toHaveLength(1);
      expect(dup[0]).toMatch(/ and at position .*: rename all but one of them$/);
    }), { numRuns: 300 });
  });

  test('a forward reference is always reported with the referencing and the referenced step', () => {
    fc.assert(fc.property(validWorkflow, fc.nat(), fc.nat(), ({ document }, i, j) => {
      const d = mutable(document);
      const steps: Loose[] = allSteps(d.steps);
      const agents = steps.map((s, index) => ({ s, index })).filter(({ s, index }) => s.type === 'agent' && index < steps.length - 1);
      fc.pre(agents.length > 0);
      const { s: from, index } = agents[i % agents.length];
      const later = steps[index + 1 + (j % (steps.length - index - 1))];
      from.input.forward = { from: 'step', step: later.name, path: 'artifacts.x' };
      const problems = validateDefinition(d);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^step '${from.name}': input 'forward' refers to step '${later.name}', which .*: (move|read|refer)`));
    }), { numRuns: 300 });
  });

  test('an out-of-range timeout is always reported with the step name and the allowed range', () => {
    fc.assert(fc.property(
      validWorkflow, fc.nat(),
      fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: LIMITS.maxApprovalTimeoutSeconds + 1 }), fc.constant(2.5)),
      ({ document }, i, timeoutSeconds) => {
        const d = mutable(document);
        const timed = (allSteps(d.steps) as Loose[]).filter((s) => s.type === 'agent' || s.type === 'approval');
        fc.pre(timed.length > 0);
        const step = timed[i % timed.length];
        step.timeoutSeconds = timeoutSeconds;
        delete step.heartbeatTimeoutSeconds;
        const problems = validateDefinition(d);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(new RegExp(`^step '${step.name}': timeout .*(between 1 second and (7|30) days|round it to whole seconds)`));
      },
    ), { numRuns: 300 });
  });

  test('the generator covers every step type and reference kind (so the properties above test something)', () => {
    const seen = new Set<string>();
    for (const { document } of fc.sample(validWorkflow, { numRuns: 300, seed: 42 })) {
      for (const s of allSteps(document.steps) as StepDocument[]) {
        seen.add(s.type);
        if (s.type === 'agent') for (const r of Object.values(s.input)) seen.add(`ref:${r.from}`);
        if (s.type === 'parallel' && s.branches.some((b) => b.steps.some((x) => x.type === 'parallel' || x.type === 'choice'))) seen.add('nested');
      }
    }
    expect([...seen].sort()).toEqual(['agent', 'approval', 'choice', 'nested', 'parallel', 'publish', 'ref:input', 'ref:literal', 'ref:step']);
  });
});

import { Lazy, Stack } from 'aws-cdk-lib';
import { checkInputAgainstDeclaration } from '../../src/contract/inputs';
import { AgentTarget } from '../../src/durable-orchestrator';
import { AgentStep, StepInput, WorkflowAgent, WorkflowDefinition, WorkflowInput } from '../../src/workflow';
import { orchestratorStack, testAgentFunction } from '../durable-orchestrator/fixtures';

const step = (input: Record<string, StepInput> = {}) =>
  new AgentStep({ stepName: 'work', agent: WorkflowAgent.named('worker'), input });

describe('WorkflowInput', () => {
  test('each factory renders its JSON Schema subset', () => {
    expect(WorkflowInput.text({ required: true, minLength: 1, maxLength: 500, description: 'd', allowedValues: ['a', 'bb'] })._render())
      .toEqual({ type: 'string', description: 'd', enum: ['a', 'bb'], minLength: 1, maxLength: 500 });
    expect(WorkflowInput.number({ minimum: 0.5, maximum: 2 })._render()).toEqual({ type: 'number', minimum: 0.5, maximum: 2 });
    expect(WorkflowInput.integer({ allowedValues: [1, 2] })._render()).toEqual({ type: 'integer', enum: [1, 2] });
    expect(WorkflowInput.flag()._render()).toEqual({ type: 'boolean' });
    expect(WorkflowInput.listOf({ items: WorkflowInput.text(), minItems: 1, maxItems: 3 })._render())
      .toEqual({ type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 });
    expect(WorkflowInput.objectOf({
      fields: { depth: WorkflowInput.text({ required: true }), n: WorkflowInput.integer() },
    })._render()).toEqual({
      type: 'object',
      properties: { depth: { type: 'string' }, n: { type: 'integer' } },
      required: ['depth'],
      additionalProperties: false,
    });
    expect(WorkflowInput.objectOf({ additionalFields: true })._render()).toEqual({ type: 'object', properties: {}, additionalProperties: true });
  });

  test('inputType, required and description are readable', () => {
    const f = WorkflowInput.integer({ required: true, description: 'how many' });
    expect([f.inputType, f.required, f.description]).toEqual(['integer', true, 'how many']);
    expect(WorkflowInput.flag().required).toBe(false);
  });

  test.each([
    ['minLength above maxLength', () => WorkflowInput.text({ minLength: 5, maxLength: 2 }),
      'WorkflowInput.text: minLength 5 is more than maxLength 2, so no value could be accepted: make minLength at most maxLength'],
    ['a negative minLength', () => WorkflowInput.text({ minLength: -1 }), /WorkflowInput.text: minLength is -1: set it to a whole number of at least 0/],
    ['empty allowedValues', () => WorkflowInput.text({ allowedValues: [] }), /WorkflowInput.text: allowedValues is empty/],
    ['an allowed value too long', () => WorkflowInput.text({ allowedValues: ['abc'], maxLength: 2 }), /allowed value "abc" breaks the field's own rules/],
    ['minimum above maximum', () => WorkflowInput.number({ minimum: 1, maximum: 0 }), /WorkflowInput.number: minimum 1 is more than maximum 0/],
    ['an infinite maximum', () => WorkflowInput.number({ maximum: Infinity }), /WorkflowInput.number: maximum is Infinity: set it to a finite number/],
    ['a fraction allowed for an integer', () => WorkflowInput.integer({ allowedValues: [1.5] }), /WorkflowInput.integer: allowed value 1.5 is not a whole number/],
    ['an allowed value below the minimum', () => WorkflowInput.integer({ allowedValues: [0], minimum: 1 }), /allowed value 0 breaks the field's own rules \(expected at least 1, got 0\)/],
    ['minItems above maxItems', () => WorkflowInput.listOf({ items: WorkflowInput.flag(), minItems: 2, maxItems: 1 }), /WorkflowInput.listOf: minItems 2 is more than maxItems 1/],
    ['required items', () => WorkflowInput.listOf({ items: WorkflowInput.text({ required: true }) }), /items is declared with required: true, which does not apply to list items/],
    ['a field name with a dot', () => WorkflowInput.objectOf({ fields: { 'a.b': WorkflowInput.text() } }), /input 'a.b': the field name is not valid/],
    ['a field that is not a WorkflowInput', () => WorkflowInput.objectOf({ fields: { a: { required: true } as unknown as WorkflowInput } }),
      /WorkflowInput.objectOf: field 'a' is not a WorkflowInput/],
  ])('%s fails at once, naming the prop and the fix', (_what, make, message) => {
    expect(make).toThrow(message);
  });

  test('a token is refused when the definition is rendered (it needs concrete values), not before', () => {
    const max = Lazy.number({ produce: () => 10 });
    const field = WorkflowInput.text({ maxLength: max });
    const wf = new WorkflowDefinition({ workflowName: 'w', steps: [step()], inputs: { t: WorkflowInput.objectOf({ fields: { inner: field } }) } });
    expect(wf.validate()).toEqual(['WorkflowInput.text: maxLength (max_length in Python) is an unresolved token, but a workflow definition is rendered to JSON at synth and needs concrete values: pass a literal maxLength rather than one from a parameter or another resource']);
    expect(() => WorkflowInput.text({ allowedValues: [Lazy.string({ produce: () => 'x' })] })._render()).toThrow(/allowedValues \(allowed_values in Python\) is an unresolved token/);
  });

  test('cannot be constructed other than through its factories', () => {
    const Ctor = WorkflowInput as unknown as new () => WorkflowInput;
    expect(() => new Ctor()).toThrow(/WorkflowInput cannot be subclassed or constructed directly.*text\(\), number\(\)/);
  });
});

describe('WorkflowDefinition inputs', () => {
  test('renders the declaration: required fields listed, undeclared fields refused by default', () => {
    const wf = new WorkflowDefinition({
      workflowName: 'w',
      steps: [step({ topic: StepInput.fromWorkflowInput('topic') })],
      inputs: { topic: WorkflowInput.text({ required: true }), n: WorkflowInput.integer() },
    });
    expect(JSON.parse(wf.toJson()).inputs).toEqual({
      type: 'object',
      properties: { topic: { type: 'string' }, n: { type: 'integer' } },
      required: ['topic'],
      additionalProperties: false,
    });
    expect(wf.additionalInputs).toBe(false);
    expect(Object.keys(wf.inputs!)).toEqual(['topic', 'n']);
  });

  test('additionalInputs: true accepts fields it does not declare', () => {
    const wf = new WorkflowDefinition({ workflowName: 'w', steps: [step()], inputs: {}, additionalInputs: true });
    const inputs = JSON.parse(wf.toJson()).inputs;
    expect(inputs).toEqual({ type: 'object', properties: {}, additionalProperties: true });
    expect(checkInputAgainstDeclaration(inputs, { any: 1 })).toEqual([]);
  });

  test('inputs: {} declares a workflow that takes no input fields', () => {
    const inputs = JSON.parse(new WorkflowDefinition({ workflowName: 'w', steps: [step()], inputs: {} }).toJson()).inputs;
    expect(checkInputAgainstDeclaration(inputs, { topic: 'x' }).map((i) => i.message)).toEqual(['input.topic is not a declared field of input: it takes no fields; remove it']);
  });

  test('without inputs nothing is declared', () => {
    const wf = new WorkflowDefinition({ workflowName: 'w', steps: [step()] });
    expect(JSON.parse(wf.toJson())).not.toHaveProperty('inputs');
    expect(wf.inputs).toBeUndefined();
  });

  test('additionalInputs without inputs is refused', () => {
    expect(() => new WorkflowDefinition({ workflowName: 'w', steps: [step()], additionalInputs: true }))
      .toThrow("WorkflowDefinition 'w': additionalInputs (additional_inputs in Python) is set, but inputs is not: declare the input fields with inputs, or leave additionalInputs out");
  });

  test('an input that is not a WorkflowInput is refused', () => {
    expect(() => new WorkflowDefinition({ workflowName: 'w', steps: [step()], inputs: { t: 'string' as unknown as WorkflowInput } }))
      .toThrow(/input 't' is not a WorkflowInput/);
  });

  test('a step reading a field the declaration leaves optional or does not have fails at toJson (at synth), naming step, field and fix', () => {
    const wf = new WorkflowDefinition({
      workflowName: 'w',
      steps: [step({ topic: StepInput.fromWorkflowInput('topic'), extra: StepInput.fromOptionalWorkflowInput('extra') })],
      inputs: { topic: WorkflowInput.text() },
    });
    expect(() => wf.toJson()).toThrow(/workflow 'w' is not valid \(2 problems\):\n- workflow 'w': step 'work' reads input 'topic', which every run needs .*declare it with required: true.*\n- workflow 'w': step 'work' reads input 'extra', which is not declared/);
  });

  test('a bad field name fails at toJson, with a suggested name', () => {
    const wf = new WorkflowDefinition({ workflowName: 'w', steps: [step()], inputs: { 'my topic': WorkflowInput.text() } });
    expect(wf.validate()).toEqual([expect.stringMatching(/input 'my topic': the field name is not valid.*for example to 'my_topic'/)]);
  });

  test('synth of an orchestrator fails on a bad declaration, naming the step, the field and the fix', () => {
    const wf = new WorkflowDefinition({
      workflowName: 'w',
      steps: [step({ d: StepInput.fromWorkflowInput('p.depth') })],
      inputs: { p: WorkflowInput.text({ required: true }) },
    });
    expect(() => orchestratorStack({ workflow: wf, agents: [AgentTarget.lambdaFunction('worker', testAgentFunction(new Stack(), 'Worker'))] }))
      .toThrow(/step 'work' reads input 'p.depth', but input 'p' is declared a string, which has no fields: read 'p' itself, or declare it an object/);
  });
});

import { StepInput } from '../../src/workflow';

describe('StepInput', () => {
  test.each([
    [StepInput.fromWorkflowInput(''), { from: 'input', path: '' }],
    [StepInput.fromWorkflowInput('parameters.depth'), { from: 'input', path: 'parameters.depth' }],
    [StepInput.fromOptionalWorkflowInput('parameters'), { from: 'input', path: 'parameters', optional: true }],
    [StepInput.fromStepOutput('approval', 'outcome'), { from: 'step', step: 'approval', path: 'outcome' }],
    [StepInput.fromStepOutput('research', ''), { from: 'step', step: 'research', path: '' }],
    [StepInput.fromArtifact('writing', 'report'), { from: 'step', step: 'writing', path: 'artifacts.report' }],
    [StepInput.literalString('fast'), { from: 'literal', value: 'fast' }],
    [StepInput.literalNumber(0), { from: 'literal', value: 0 }],
    [StepInput.literalNumber(-2.5), { from: 'literal', value: -2.5 }],
    [StepInput.literalBoolean(false), { from: 'literal', value: false }],
  ])('renders %# to its value reference', (input, ref) => {
    expect(input._toValueRef()).toEqual(ref);
  });

  test('rejects a path with an empty segment, naming the factory, the prop and the value', () => {
    expect(() => StepInput.fromWorkflowInput('a..b'))
      .toThrow(/^StepInput.fromWorkflowInput: path has path "a..b", which has an empty segment: write a dot path such as 'parameters.depth'/);
    expect(() => StepInput.fromStepOutput('research', 'artifacts.'))
      .toThrow(/^StepInput.fromStepOutput: path has path "artifacts.", which has an empty segment/);
  });

  test('an optional input names a field: the whole input is always there', () => {
    expect(() => StepInput.fromOptionalWorkflowInput(''))
      .toThrow(/^StepInput.fromOptionalWorkflowInput: path has an empty path: give a dot path/);
  });

  test('rejects an invalid step name with a suggestion', () => {
    expect(() => StepInput.fromStepOutput('my step', 'x'))
      .toThrow(/^StepInput.fromStepOutput: stepName \(step_name in Python\) "my step" is not valid: .*rename it, for example to 'my-step'/);
    expect(() => StepInput.fromArtifact('', 'report')).toThrow(/^StepInput.fromArtifact: stepName \(step_name in Python\) is empty: pass a name/);
  });

  test('rejects an empty or dotted artifact name', () => {
    expect(() => StepInput.fromArtifact('writing', '')).toThrow(/^StepInput.fromArtifact: artifactName is "": pass the name the agent gave the artifact/);
    expect(() => StepInput.fromArtifact('writing', 'a.b')).toThrow(/artifactName is "a.b": .*without dots/);
  });

  test('rejects a number that JSON cannot carry', () => {
    expect(() => StepInput.literalNumber(Number.NaN)).toThrow(/^StepInput.literalNumber: value is NaN: pass a finite number$/);
    expect(() => StepInput.literalNumber(Number.POSITIVE_INFINITY)).toThrow(/value is Infinity/);
  });
});

import { PublishStep, StepInput } from '../../src/workflow';

describe('PublishStep', () => {
  test('is named publish by default and renders the artifact reference', () => {
    const step = new PublishStep({ artifact: StepInput.fromArtifact('writing', 'report') });
    expect(step.stepName).toBe('publish');
    expect(step._render()).toEqual({ type: 'publish', name: 'publish', artifact: { from: 'step', step: 'writing', path: 'artifacts.report' } });
  });

  test('takes another name', () => {
    expect(new PublishStep({ stepName: 'store', artifact: StepInput.fromStepOutput('w', 'artifacts.r') })._render().name).toBe('store');
  });

  test('only publishes an artifact of a step', () => {
    expect(() => new PublishStep({ artifact: StepInput.fromWorkflowInput('report') }))
      .toThrow(/^PublishStep 'publish': artifact comes from the workflow input, but only an artifact written by an earlier step can be published: pass StepInput.fromArtifact/);
    expect(() => new PublishStep({ artifact: StepInput.literalString('s3://bucket/key') })).toThrow(/artifact comes from a literal/);
    expect(() => new PublishStep({ artifact: StepInput.fromStepOutput('writing', '') }))
      .toThrow(/^PublishStep 'publish': artifact is the whole output of step 'writing': pass one artifact of it/);
  });
});

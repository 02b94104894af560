import { ApprovalStep, ChoiceCase, ChoiceStep, StepInput } from '../../src/workflow';

const approve = (name: string) => new ApprovalStep({ stepName: name, prompt: 'ok?' });
const approvalDoc = (name: string) => ({ type: 'approval', name, prompt: 'ok?', timeoutSeconds: 86400, onTimeout: 'REJECT', onReject: 'END' });

describe('ChoiceStep', () => {
  test('renders every kind of case and the otherwise steps', () => {
    const step = new ChoiceStep({
      stepName: 'route',
      value: StepInput.fromStepOutput('review', 'outcome'),
      cases: [
        ChoiceCase.whenString('REJECTED', [approve('second-look')]),
        ChoiceCase.whenNumber(3, []),
        ChoiceCase.whenBoolean(false, [approve('b')]),
      ],
      otherwise: [approve('o')],
    });
    expect(step._render()).toEqual({
      type: 'choice',
      name: 'route',
      value: { from: 'step', step: 'review', path: 'outcome' },
      cases: [
        { equals: 'REJECTED', steps: [approvalDoc('second-look')] },
        { equals: 3, steps: [] },
        { equals: false, steps: [approvalDoc('b')] },
      ],
      otherwise: [approvalDoc('o')],
    });
    expect(step._nestedSteps().map((s) => s.stepName)).toEqual(['second-look', 'b', 'o']);
  });

  test('otherwise defaults to no steps', () => {
    const step = new ChoiceStep({ stepName: 'c', value: StepInput.fromWorkflowInput('kind'), cases: [ChoiceCase.whenString('a', [])] });
    expect(step._render().otherwise).toEqual([]);
    expect(step.otherwise).toEqual([]);
  });

  test('needs at least one case', () => {
    expect(() => new ChoiceStep({ stepName: 'c', value: StepInput.fromWorkflowInput('k'), cases: [] }))
      .toThrow(/^ChoiceStep 'c': cases is empty: give the choice at least one case/);
  });

  test('rejects a case value given twice; values of different types differ', () => {
    expect(() => new ChoiceStep({
      stepName: 'c', value: StepInput.fromWorkflowInput('k'), cases: [ChoiceCase.whenNumber(1, []), ChoiceCase.whenNumber(1, [])],
    })).toThrow(/^ChoiceStep 'c': cases has case 1 twice; only the first would ever run: remove the duplicate or merge its steps into the first$/);
    expect(() => new ChoiceStep({
      stepName: 'c',
      value: StepInput.fromWorkflowInput('k'),
      cases: [ChoiceCase.whenString('1', []), ChoiceCase.whenNumber(1, []), ChoiceCase.whenBoolean(true, []), ChoiceCase.whenString('true', [])],
    })).not.toThrow();
  });

  test('whenNumber rejects a number JSON cannot carry', () => {
    expect(() => ChoiceCase.whenNumber(Number.NaN, [])).toThrow(/^ChoiceCase.whenNumber: value is NaN: pass a finite number$/);
  });
});

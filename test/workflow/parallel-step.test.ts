import { ApprovalStep, ParallelBranch, ParallelStep, WorkflowStep } from '../../src/workflow';

const approve = (name: string): WorkflowStep => new ApprovalStep({ stepName: name, prompt: 'ok?' });
const branch = (name: string, ...steps: string[]) => new ParallelBranch({ branchName: name, steps: steps.map(approve) });

describe('ParallelStep', () => {
  test('renders its branches; by default all run at once and all must succeed', () => {
    const step = new ParallelStep({ stepName: 'reviews', branches: [branch('legal', 'l1', 'l2'), branch('tech', 't1')] });
    const approval = (name: string) => ({ type: 'approval', name, prompt: 'ok?', timeoutSeconds: 86400, onTimeout: 'REJECT', onReject: 'END' });
    expect(step._render()).toEqual({
      type: 'parallel',
      name: 'reviews',
      branches: [
        { name: 'legal', steps: [approval('l1'), approval('l2')] },
        { name: 'tech', steps: [approval('t1')] },
      ],
      maxConcurrency: 2,
      minSuccessful: 2,
    });
    expect(step._nestedSteps().map((s) => s.stepName)).toEqual(['l1', 'l2', 't1']);
  });

  test('renders maxConcurrency and minSuccessful', () => {
    const step = new ParallelStep({ stepName: 'p', branches: [branch('a', 'a1'), branch('b', 'b1'), branch('c', 'c1')], maxConcurrency: 1, minSuccessful: 2 });
    expect(step._render()).toMatchObject({ maxConcurrency: 1, minSuccessful: 2 });
  });

  test('needs 1 to 50 branches', () => {
    expect(() => new ParallelStep({ stepName: 'p', branches: [] })).toThrow(/^ParallelStep 'p': branches is empty: give the parallel step at least one branch$/);
    const many = Array.from({ length: 51 }, (_, i) => branch(`b${i}`, `s${i}`));
    expect(() => new ParallelStep({ stepName: 'p', branches: many }))
      .toThrow(/^ParallelStep 'p': branches has 51 branches, more than the limit of 50: split them into several parallel steps$/);
    expect(new ParallelStep({ stepName: 'p', branches: many.slice(1) }).branches).toHaveLength(50);
  });

  test('rejects two branches of the same name', () => {
    expect(() => new ParallelStep({ stepName: 'p', branches: [branch('a', 'x'), branch('a', 'y')] }))
      .toThrow(/^ParallelStep 'p': branches has two branches named 'a': rename one of them/);
  });

  test.each([0, 3, 1.5])('minSuccessful must be from 1 to the number of branches (%s)', (minSuccessful) => {
    expect(() => new ParallelStep({ stepName: 'p', branches: [branch('a', 'x'), branch('b', 'y')], minSuccessful }))
      .toThrow(new RegExp(`^ParallelStep 'p': minSuccessful \\(min_successful in Python\\) is ${minSuccessful}; it must be a whole number from 1 to 2: pass how many of the 2 branches must succeed`));
  });

  test('maxConcurrency must be at least 1', () => {
    expect(() => new ParallelStep({ stepName: 'p', branches: [branch('a', 'x')], maxConcurrency: 0 }))
      .toThrow(/^ParallelStep 'p': maxConcurrency \(max_concurrency in Python\) is 0; it must be a whole number from 1 to \d+: pass how many branches may run at once \(1 runs them all at once\)/);
  });
});

describe('ParallelBranch', () => {
  test('needs a valid name and at least one step', () => {
    expect(() => new ParallelBranch({ branchName: 'a b', steps: [approve('x')] }))
      .toThrow(/^ParallelBranch: branchName \(branch_name in Python\) "a b" is not valid: .*for example to 'a-b'/);
    expect(() => new ParallelBranch({ branchName: 'a', steps: [] }))
      .toThrow(/^ParallelBranch 'a': steps is empty: give the branch at least one step$/);
  });
});

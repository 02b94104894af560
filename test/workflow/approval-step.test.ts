import { Duration } from 'aws-cdk-lib';
import { ApprovalStep, ApprovalTimeoutAction } from '../../src/workflow';

describe('ApprovalStep', () => {
  test('renders with the defaults: 24 hours, rejected on timeout, a rejection ends the workflow', () => {
    expect(new ApprovalStep({ stepName: 'approval', prompt: 'Publish the report?' })._render()).toEqual({
      type: 'approval', name: 'approval', prompt: 'Publish the report?', timeoutSeconds: 86400, onTimeout: 'REJECT', onReject: 'END',
    });
  });

  test.each([
    [ApprovalTimeoutAction.APPROVE, true, 'APPROVE', 'CONTINUE'],
    [ApprovalTimeoutAction.FAIL, false, 'FAIL', 'END'],
    [ApprovalTimeoutAction.REJECT, true, 'REJECT', 'CONTINUE'],
  ])('renders onTimeout %s and continueOnRejection %s', (onTimeout, continueOnRejection, renderedTimeout, onReject) => {
    const step = new ApprovalStep({ stepName: 'ok', prompt: 'p', timeout: Duration.days(30), onTimeout, continueOnRejection });
    expect(step._render()).toEqual({
      type: 'approval', name: 'ok', prompt: 'p', timeoutSeconds: 30 * 86400, onTimeout: renderedTimeout, onReject,
    });
    expect(step.onTimeout).toBe(onTimeout);
    expect(step.continueOnRejection).toBe(continueOnRejection);
  });

  test('rejects an empty prompt and a prompt over 2000 characters', () => {
    expect(() => new ApprovalStep({ stepName: 'ok', prompt: ' ' })).toThrow(/^ApprovalStep 'ok': prompt is empty: say what the approver is asked to decide$/);
    expect(() => new ApprovalStep({ stepName: 'ok', prompt: 'x'.repeat(2001) }))
      .toThrow(/^ApprovalStep 'ok': prompt has 2001 characters, more than the limit of 2000: shorten it/);
    expect(new ApprovalStep({ stepName: 'ok', prompt: 'x'.repeat(2000) }).prompt).toHaveLength(2000);
  });

  test('rejects a timeout out of range', () => {
    expect(() => new ApprovalStep({ stepName: 'ok', prompt: 'p', timeout: Duration.days(31) }))
      .toThrow(/^ApprovalStep 'ok': timeout is 31 days; an approval's timeout must be between 1 second and 30 days: set timeout in that range/);
    expect(() => new ApprovalStep({ stepName: 'ok', prompt: 'p', timeout: Duration.seconds(0) })).toThrow(/timeout is 0 seconds/);
  });

  test('rejects an invalid step name', () => {
    expect(() => new ApprovalStep({ stepName: '9lives', prompt: 'p' })).toThrow(/^ApprovalStep: stepName \(step_name in Python\) "9lives" is not valid: .*for example to 'lives'/);
  });
});

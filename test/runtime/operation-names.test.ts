import { callbackOperations, OPERATION } from '../../src/runtime/operation-names';

// Replays match operations by name: these names are part of what a running workflow depends on.
test('operation names are stable and derived from the step names', () => {
  expect([
    OPERATION.workflowStart, OPERATION.workflowFinish, OPERATION.agentReport('research', 2), OPERATION.agentDispatch('research', 2),
    OPERATION.attemptFailed('research', 2), OPERATION.backoff('research', 2), OPERATION.decision('approval'), OPERATION.decisionRequest('approval'),
    OPERATION.start('fanout'), OPERATION.complete('fanout'), OPERATION.publish('publish'), OPERATION.choose('route'), OPERATION.abandon('fanout'),
    OPERATION.cancelCheck('research/attempt-1'), OPERATION.budgetCheck('research/attempt-1'),
  ]).toEqual([
    'workflow/start', 'workflow/finish', 'research/attempt-2', 'research/attempt-2/dispatch',
    'research/attempt-2/failed', 'research/backoff-2', 'approval/decision', 'approval/decision/request',
    'fanout/start', 'fanout/complete', 'publish/publish', 'route/choose', 'fanout/abandon',
    'research/attempt-1/cancel-check', 'research/attempt-1/budget-check',
  ]);
});

test('a callback record leads to the operations it can belong to', () => {
  expect(callbackOperations('approval', 'approval', undefined, 3)).toEqual(['approval/decision']);
  expect(callbackOperations('agent', 'research', 2, 3)).toEqual(['research/attempt-2']);
  expect(callbackOperations('timer', 'research', 1, 3)).toEqual(['research/backoff-1']);
  expect(callbackOperations('agent', 'research', undefined, 3)).toEqual(['research/attempt-1', 'research/attempt-2', 'research/attempt-3']);
});

import { Duration, Lazy } from 'aws-cdk-lib';
import { AgentStep, RetryPolicy, StepInput, WorkflowAgent } from '../../src/workflow';

const researcher = WorkflowAgent.named('researcher');

describe('AgentStep', () => {
  test('renders with the defaults: no input, 1 hour, no heartbeat, exponential retry', () => {
    expect(new AgentStep({ stepName: 'research', agent: researcher })._render()).toEqual({
      type: 'agent',
      name: 'research',
      agent: 'researcher',
      input: {},
      timeoutSeconds: 3600,
      retry: { maxAttempts: 3, initialDelaySeconds: 10, backoffRate: 2, maxDelaySeconds: 300 },
    });
  });

  test('renders every option', () => {
    const step = new AgentStep({
      stepName: 'writing',
      agent: WorkflowAgent.named('writer'),
      input: { analysis: StepInput.fromArtifact('analysis', 'analysis'), style: StepInput.literalString('brief') },
      timeout: Duration.minutes(30),
      heartbeatTimeout: Duration.minutes(5),
      retry: RetryPolicy.none(),
    });
    expect(step._render()).toEqual({
      type: 'agent',
      name: 'writing',
      agent: 'writer',
      input: {
        analysis: { from: 'step', step: 'analysis', path: 'artifacts.analysis' },
        style: { from: 'literal', value: 'brief' },
      },
      timeoutSeconds: 1800,
      heartbeatTimeoutSeconds: 300,
      retry: { maxAttempts: 1, initialDelaySeconds: 0, backoffRate: 1, maxDelaySeconds: 0 },
    });
    expect(step.stepName).toBe('writing');
    expect(step.agent.agentName).toBe('writer');
    expect(step.timeout.toMinutes()).toBe(30);
    expect(step.heartbeatTimeout?.toMinutes()).toBe(5);
    expect(step.retry.maxAttempts).toBe(1);
  });

  test('the input map is copied: changing it afterwards changes nothing', () => {
    const input: Record<string, StepInput> = { a: StepInput.literalNumber(1) };
    const step = new AgentStep({ stepName: 's', agent: researcher, input });
    input.b = StepInput.literalNumber(2);
    expect(Object.keys(step._render().input)).toEqual(['a']);
  });

  test('rejects an invalid step name', () => {
    expect(() => new AgentStep({ stepName: 'step one', agent: researcher }))
      .toThrow(/^AgentStep: stepName \(step_name in Python\) "step one" is not valid: a name starts with a letter, .* rename it, for example to 'step-one'/);
    expect(() => new AgentStep({ stepName: '', agent: researcher })).toThrow(/^AgentStep: stepName \(step_name in Python\) is empty: pass a name/);
  });

  test('rejects an agent without a name', () => {
    expect(() => new AgentStep({ stepName: 's', agent: { agentName: '' } }))
      .toThrow(/^AgentStep 's': agent has an empty agentName: pass an agent with a name, for example WorkflowAgent.named/);
  });

  test.each([
    [Duration.seconds(0), /timeout is 0 seconds; an agent step's timeout \(one attempt\) must be between 1 second and 7 days: set timeout in that range/],
    [Duration.days(8), /timeout is 8 days; .* between 1 second and 7 days/],
    [Duration.millis(2500), /timeout is 2.5 seconds, not a whole number of seconds: round it to whole seconds/],
  ])('rejects a timeout out of range (%s)', (timeout, message) => {
    expect(() => new AgentStep({ stepName: 'slow', agent: researcher, timeout })).toThrow(new RegExp(`^AgentStep 'slow': ${message.source}`));
  });

  test('accepts the limits of the timeout', () => {
    expect(new AgentStep({ stepName: 'a', agent: researcher, timeout: Duration.seconds(1) })._render().timeoutSeconds).toBe(1);
    expect(new AgentStep({ stepName: 'a', agent: researcher, timeout: Duration.days(7) })._render().timeoutSeconds).toBe(7 * 86400);
  });

  test('rejects a heartbeat timeout that is not shorter than the timeout', () => {
    expect(() => new AgentStep({ stepName: 'hb', agent: researcher, timeout: Duration.minutes(10), heartbeatTimeout: Duration.minutes(10) }))
      .toThrow(/^AgentStep 'hb': heartbeatTimeout is 10 minutes, not shorter than timeout \(10 minutes\): pass a heartbeatTimeout shorter than the timeout, or none/);
    expect(() => new AgentStep({ stepName: 'hb', agent: researcher, heartbeatTimeout: Duration.seconds(0) }))
      .toThrow(/^AgentStep 'hb': heartbeatTimeout \(heartbeat_timeout in Python\) is 0 seconds; a heartbeat timeout must be between 1 second and 7 days/);
  });

  test('rejects an empty input name', () => {
    expect(() => new AgentStep({ stepName: 's', agent: researcher, input: { '': StepInput.literalString('x') } }))
      .toThrow(/^AgentStep 's': input has a key that is empty: give every input a name/);
  });

  test('does not check tokens eagerly, and says at rendering that it needs a concrete value', () => {
    const step = new AgentStep({ stepName: 'tok', agent: researcher, timeout: Duration.seconds(Lazy.number({ produce: () => 10 ** 9 })) });
    expect(() => step._render())
      .toThrow(/^AgentStep 'tok': timeout is an unresolved token, but a workflow definition is rendered to JSON at synth and needs a concrete value: pass a literal timeout/);
    const hb = new AgentStep({ stepName: 'tok', agent: researcher, heartbeatTimeout: Duration.seconds(Lazy.number({ produce: () => 10 })) });
    expect(() => hb._render()).toThrow(/^AgentStep 'tok': heartbeatTimeout \(heartbeat_timeout in Python\) is an unresolved token/);
  });
});

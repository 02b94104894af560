/**
 * The classes built only through static factories (or the library's own subclasses) refuse what a
 * Python subclass turns into on the JavaScript side, with an error naming what to use instead.
 *
 * jsii builds the JavaScript side of a Python subclass by constructing the library class itself:
 * `Reflect.construct(Class, [])` for a class with a private constructor (jsii passes no arguments:
 * the assembly has no initializer), `Reflect.construct(AbstractClass, args)` for an abstract one,
 * then forwards only the public members the subclass overrides. The tests do the same.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { AgentArchitecture, AgentCompute, AgentImage, AgentModel } from '../../src/container-agent';
import { DataTierProfile } from '../../src/data-tier';
import { AgentDispatch, AgentTarget } from '../../src/durable-orchestrator';
import { ApiAuthorization, SecureApiService, ServiceCapacity } from '../../src/secure-api';
import {
  AgentStep, ChoiceCase, PublishStep, RetryPolicy, StepInput, WorkflowAgent, WorkflowDefinition, WorkflowStep,
} from '../../src/workflow';

/** Any class, whatever its constructor's visibility. */
type AnyClass = { readonly prototype: unknown };
/** What jsii does for a foreign subclass: construct the library class itself (a private constructor is only private to tsc). */
const constructAsJsii = (cls: AnyClass, args: unknown[] = []) => Reflect.construct(cls as unknown as new (...a: unknown[]) => unknown, args);

describe('classes built through static factories refuse a subclass from another language', () => {
  test.each<[string, AnyClass, RegExp]>([
    ['AgentCompute', AgentCompute, /use AgentCompute\.fargate\(\) or AgentCompute\.lambdaFunction\(\)/],
    ['AgentModel', AgentModel, /use AgentModel\.bedrock\(\), bedrockInferenceProfile\(\) or openAiCompatible\(\)/],
    ['ApiAuthorization', ApiAuthorization, /use ApiAuthorization\.iam\(\), jwt\(\), cognito\(\) or none\(\)/],
    ['ServiceCapacity', ServiceCapacity, /use ServiceCapacity\.onDemand\(\) or ServiceCapacity\.spot\(\)/],
    ['DataTierProfile', DataTierProfile, /use DataTierProfile\.ephemeral\(\) or DataTierProfile\.production\(\)/],
    ['RetryPolicy', RetryPolicy, /use RetryPolicy\.none\(\) or RetryPolicy\.exponential\(\)/],
    ['StepInput', StepInput, /use the static factories of StepInput \(fromWorkflowInput\(\)/],
    ['ChoiceCase', ChoiceCase, /use ChoiceCase\.whenString\(\), whenNumber\(\) or whenBoolean\(\)/],
    ['AgentDispatch', AgentDispatch, /use AgentDispatch\.lambdaFunction\(\) or AgentDispatch\.ecsTask\(\)/],
    ['AgentTarget', AgentTarget, /use AgentTarget\.lambdaFunction\(\) or AgentTarget\.ecsTask\(\), or implement IDispatchableAgent/],
    ['SecureApiService', SecureApiService, /use SecureApi\.addService\(\) or SecureApi\.addInternalService\(\)/],
  ])('%s', (name, cls, useInstead) => {
    expect(() => constructAsJsii(cls)).toThrow(new RegExp(`^${name} cannot be subclassed or constructed directly \\(the library reads internal state`));
    expect(() => constructAsJsii(cls)).toThrow(useInstead);
  });

  test('the factories still build them', () => {
    expect(AgentCompute.fargate().kind).toBeDefined();
    expect(ServiceCapacity.onDemand().usesSpot).toBe(false);
    expect(ServiceCapacity.spot().usesSpot).toBe(true);
    expect(DataTierProfile.ephemeral().name).toBeDefined();
    expect(RetryPolicy.none().maxAttempts).toBe(1);
    expect(ApiAuthorization.none().authorizationType).toBeDefined();
    expect(ChoiceCase.whenBoolean(false, []).steps).toEqual([]);
    expect(StepInput.literalNumber(0)).toBeInstanceOf(StepInput);
  });
});

describe('WorkflowStep', () => {
  const agent = WorkflowAgent.named('researcher');

  test('refuses a step kind of another language (jsii constructs WorkflowStep itself), naming the step kinds', () => {
    expect(() => constructAsJsii(WorkflowStep, ['summarize'])).toThrow(
      /^WorkflowStep cannot be subclassed outside this library \(the library calls its internal _render\(\), .*\); use AgentStep, ApprovalStep, ChoiceStep, ParallelStep or PublishStep \(or extend one of them\)$/);
  });

  test('refuses a subclass without the internal _render (a JavaScript caller that skipped the type checks)', () => {
    const Untyped = WorkflowStep as unknown as new (stepName: string) => object;
    class Incomplete extends Untyped {}
    expect(() => new Incomplete('summarize')).toThrow(/WorkflowStep cannot be subclassed outside this library/);
  });

  test('a subclass of a step kind keeps its kind and renders as it', () => {
    class ResearchStep extends AgentStep {
      constructor(stepName: string) {
        super({ stepName, agent, timeout: Duration.minutes(5) });
      }
    }
    const definition = new WorkflowDefinition({
      workflowName: 'research',
      steps: [new ResearchStep('research'), new PublishStep({ stepName: 'publish', artifact: StepInput.fromArtifact('research', 'report') })],
    });
    expect(definition._toDocument().steps.map((s) => [s.type, s.name])).toEqual([['agent', 'research'], ['publish', 'publish']]);
  });
});

describe('AgentImage', () => {
  test('refuses an image source of another language (jsii constructs AgentImage itself), naming the factories', () => {
    expect(() => constructAsJsii(AgentImage)).toThrow(
      /^AgentImage cannot be subclassed outside this library \(the library calls its internal _bind\(\), .*\); use AgentImage\.fromDirectory\(\), fromEcrRepository\(\), fromRegistry\(\), fromNewRepository\(\), fromDirectoryIntoNewRepository\(\), fromReferenceAgent\(\) or fromReferenceAgentIntoNewRepository\(\)$/);
  });

  test('refuses a subclass without the internal _bind', () => {
    const Untyped = AgentImage as unknown as new () => object;
    class Incomplete extends Untyped {}
    expect(() => new Incomplete()).toThrow(/AgentImage cannot be subclassed outside this library/);
  });

  test('the factories still build images an agent binds', () => {
    const stack = new Stack(new App(), 'S');
    const image = AgentImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine');
    expect(image).toBeInstanceOf(AgentImage);
    expect(image._bind(new Construct(stack, 'Scope'), AgentArchitecture.ARM64)).toBeDefined();
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

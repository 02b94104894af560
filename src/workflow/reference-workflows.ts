import { Duration } from 'aws-cdk-lib';
import { IWorkflowAgent } from './agent';
import { AgentStep } from './agent-step';
import { ApprovalStep } from './approval-step';
import { PublishStep } from './publish-step';
import { StepInput } from './step-input';
import { WorkflowDefinition } from './workflow-definition';
import { WorkflowInput } from './workflow-input';

/** Properties of `ReferenceWorkflows.researchReport` (`ReferenceWorkflows.research_report` in Python). */
export interface ResearchReportProps {
  /** The agent that researches the topic and writes the `research` artifact. */
  readonly researcher: IWorkflowAgent;
  /** The agent that analyses the research and writes the `analysis` artifact. */
  readonly analyst: IWorkflowAgent;
  /** The agent that writes the `report` artifact from the analysis. */
  readonly writer: IWorkflowAgent;
  /**
   * How long a person has to approve the report before it counts as rejected.
   * @default Duration.hours(24)
   */
  readonly approvalTimeout?: Duration;
  /**
   * How long one attempt of each agent step may take.
   * @default Duration.hours(1)
   */
  readonly agentTimeout?: Duration;
}

/** Ready-made workflows. */
export class ReferenceWorkflows {
  /** Name of the workflow that `ReferenceWorkflows.researchReport` (`research_report` in Python) returns. */
  public static readonly RESEARCH_REPORT_NAME = 'research-report';

  /**
   * Most characters of the research workflow's `topic`. The reference researcher refuses a topic
   * of more than 2000 UTF-16 code units; 1000 characters are at most 2000 of them, so a topic the
   * API accepts is never refused by the agent.
   */
  public static readonly RESEARCH_TOPIC_MAX_LENGTH = 1000;

  /** The depths the reference researcher knows, for the research workflow's `parameters.depth`. */
  public static readonly RESEARCH_DEPTHS = ['brief', 'standard', 'comprehensive'];

  /**
   * Research a topic, analyse the findings, write a report, have a person approve it, and
   * publish it.
   *
   * The workflow input is `{ "topic": "...", "parameters": { ... } }`, declared: `topic` a required
   * text of 1 to 1000 characters; `parameters` an optional object whose `depth` is one of `brief`,
   * `standard` or `comprehensive`, and whose other fields are passed on to the researcher. No other
   * top-level field is accepted. The steps:
   * `research` (input `topic`, `parameters`; writes artifact `research`), `analysis` (input
   * `research`: that artifact; writes `analysis`), `writing` (input `analysis` and `topic`;
   * writes `report`), `approval`, and `publish` of the report.
   */
  public static researchReport(props: ResearchReportProps): WorkflowDefinition {
    const timeout = props.agentTimeout ?? Duration.hours(1);
    return new WorkflowDefinition({
      workflowName: ReferenceWorkflows.RESEARCH_REPORT_NAME,
      description: 'Research a topic, analyse the findings, write a report, have a person approve it, and publish it.',
      inputs: {
        topic: WorkflowInput.text({
          required: true,
          minLength: 1,
          maxLength: ReferenceWorkflows.RESEARCH_TOPIC_MAX_LENGTH,
          description: 'What to research and write the report about.',
        }),
        parameters: WorkflowInput.objectOf({
          description: 'How to research it: depth, and further fields the researcher passes on to the model (focus, sources, ...).',
          fields: {
            depth: WorkflowInput.text({
              allowedValues: [...ReferenceWorkflows.RESEARCH_DEPTHS],
              description: 'How thorough the research is (default: standard).',
            }),
          },
          additionalFields: true,
        }),
      },
      steps: [
        new AgentStep({
          stepName: 'research',
          agent: props.researcher,
          input: {
            topic: StepInput.fromWorkflowInput('topic'),
            parameters: StepInput.fromOptionalWorkflowInput('parameters'),
          },
          timeout,
        }),
        new AgentStep({
          stepName: 'analysis',
          agent: props.analyst,
          input: { research: StepInput.fromArtifact('research', 'research') },
          timeout,
        }),
        new AgentStep({
          stepName: 'writing',
          agent: props.writer,
          input: {
            analysis: StepInput.fromArtifact('analysis', 'analysis'),
            topic: StepInput.fromWorkflowInput('topic'),
          },
          timeout,
        }),
        new ApprovalStep({
          stepName: 'approval',
          prompt: 'Review the report written for this workflow\'s topic (the writing step\'s report artifact): '
            + 'approve to publish it, or reject to end the workflow without publishing.',
          timeout: props.approvalTimeout ?? Duration.hours(24),
        }),
        new PublishStep({ stepName: 'publish', artifact: StepInput.fromArtifact('writing', 'report') }),
      ],
    });
  }

  private constructor() {}
}

import { Duration } from 'aws-cdk-lib';
import { IWorkflowAgent } from './agent';
import { AgentStep } from './agent-step';
import { ApprovalStep } from './approval-step';
import { PublishStep } from './publish-step';
import { StepInput } from './step-input';
import { WorkflowDefinition } from './workflow-definition';

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
   * Research a topic, analyse the findings, write a report, have a person approve it, and
   * publish it.
   *
   * The workflow input is `{ "topic": "...", "parameters": { ... } }` (`parameters` optional). The steps:
   * `research` (input `topic`, `parameters`; writes artifact `research`), `analysis` (input
   * `research`: that artifact; writes `analysis`), `writing` (input `analysis` and `topic`;
   * writes `report`), `approval`, and `publish` of the report.
   */
  public static researchReport(props: ResearchReportProps): WorkflowDefinition {
    const timeout = props.agentTimeout ?? Duration.hours(1);
    return new WorkflowDefinition({
      workflowName: ReferenceWorkflows.RESEARCH_REPORT_NAME,
      description: 'Research a topic, analyse the findings, write a report, have a person approve it, and publish it.',
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

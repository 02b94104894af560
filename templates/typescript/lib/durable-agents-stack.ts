import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  AgentCompute,
  AgentImage,
  ContainerAgent,
  DurableOrchestrator,
  ReferenceAgent,
  ReferenceWorkflows,
  // AgentModel,
} from 'cdk-durable-agents';

/**
 * The reference workflow (research -> analysis -> writing -> approval -> publish) with the
 * package's three reference agents as Lambda functions (no VPC, no NAT gateway), their images
 * built by AWS CodeBuild from the package (no Docker needed to deploy), and the orchestrator's
 * API URL and resource names as stack outputs.
 */
export class DurableAgentsStack extends Stack {
  /** The orchestrator: the HTTP API, the durable controller, the state table and the artifact bucket. */
  public readonly orchestrator: DurableOrchestrator;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const [researcher, analyst, writer] = ReferenceAgent.all().map((reference) => new ContainerAgent(this, reference.name, {
      agentName: reference.name,
      // Built by AWS CodeBuild into a new ECR repository at deploy. With Docker on this machine,
      // AgentImage.fromReferenceAgent(reference) builds it here and pushes it to the CDK assets repository instead.
      image: AgentImage.fromReferenceAgentIntoNewRepository(reference),
      compute: AgentCompute.lambdaFunction(),
      // Without a model the reference agents answer offline (canned text). To call Bedrock (enable the model
      // in the Bedrock console first), uncomment this line and the AgentModel import above:
      // models: [AgentModel.bedrockInferenceProfile('global.anthropic.claude-sonnet-4-5-20250929-v1:0')],
    }));

    this.orchestrator = new DurableOrchestrator(this, 'Research', {
      workflow: ReferenceWorkflows.researchReport({ researcher, analyst, writer }),
      agents: [researcher, analyst, writer],
    });
    // Stack outputs ResearchApiUrl, ResearchArtifactBucketName, ... (`cdk deploy --outputs-file`).
    this.orchestrator.addOutputs();
  }
}

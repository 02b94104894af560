"""The reference workflow (research -> analysis -> writing -> approval -> publish) with the
package's three reference agents as Lambda functions (no VPC, no NAT gateway), their images built
by AWS CodeBuild from the package (no Docker needed to deploy), and the orchestrator's API URL and
resource names as stack outputs."""
from aws_cdk import Stack
from constructs import Construct
from cdk_durable_agents import (
    AgentCompute,
    AgentImage,
    ContainerAgent,
    DurableOrchestrator,
    ReferenceAgent,
    ReferenceWorkflows,
    # AgentModel,
)


class DurableAgentsStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        researcher, analyst, writer = [
            ContainerAgent(
                self,
                reference.name,
                agent_name=reference.name,
                # Built by AWS CodeBuild into a new ECR repository at deploy. With Docker on this machine,
                # AgentImage.from_reference_agent(reference) builds it here and pushes it to the CDK assets repository instead.
                image=AgentImage.from_reference_agent_into_new_repository(reference),
                compute=AgentCompute.lambda_function(),
                # Without a model the reference agents answer offline (canned text). To call Bedrock (enable the model
                # in the Bedrock console first), uncomment this line and the AgentModel import above:
                # models=[AgentModel.bedrock_inference_profile("global.anthropic.claude-sonnet-4-5-20250929-v1:0")],
            )
            for reference in ReferenceAgent.all()
        ]

        self.orchestrator = DurableOrchestrator(
            self,
            "Research",
            workflow=ReferenceWorkflows.research_report(researcher=researcher, analyst=analyst, writer=writer),
            agents=[researcher, analyst, writer],
        )
        # Stack outputs ResearchApiUrl, ResearchArtifactBucketName, ... (`cdk deploy --outputs-file`).
        self.orchestrator.add_outputs()

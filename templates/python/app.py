#!/usr/bin/env python3
"""The CDK app: one stack with the cdk-durable-agents reference workflow."""
import aws_cdk as cdk

from durable_agents_app.stack import DurableAgentsStack

app = cdk.App()
# Environment-agnostic: synthesizes without AWS credentials and deploys to the account and region
# of the credentials `cdk deploy` uses. Setting env=cdk.Environment(account=..., region=...) pins
# them, and lookups (e.g. the availability zones of a VPC) then need credentials at synth (README).
DurableAgentsStack(
    app,
    "DurableAgents",
    description="cdk-durable-agents: the research-report workflow (three Lambda agents, an approval, a published report)",
)
app.synth()

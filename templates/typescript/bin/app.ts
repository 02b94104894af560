#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { DurableAgentsStack } from '../lib/durable-agents-stack';

const app = new App();
// Environment-agnostic: synthesizes without AWS credentials and deploys to the account and region
// of the credentials `cdk deploy` uses. Setting `env: { account, region }` here pins them, and
// lookups (e.g. the availability zones of a VPC) then need credentials at synth (README).
new DurableAgentsStack(app, 'DurableAgents', {
  description: 'cdk-durable-agents: the research-report workflow (three Lambda agents, an approval, a published report)',
});

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DurableAgentsStack } from '../lib/durable-agents-stack';

const template = Template.fromStack(new DurableAgentsStack(new App(), 'Test'));

test('three agents as Lambda functions built from images', () => {
  const images = template.findResources('AWS::Lambda::Function', { Properties: { PackageType: 'Image' } });
  assert.equal(Object.keys(images).length, 3);
});

test('the images are built by CodeBuild into their own repositories (no Docker at deploy)', () => {
  template.resourceCountIs('AWS::ECR::Repository', 3);
  template.resourceCountIs('AWS::CodeBuild::Project', 3);
});

test('the API every route of which needs IAM, and its URL as an output', () => {
  const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
  assert.ok(routes.length > 0);
  for (const route of routes) assert.equal(route.Properties.AuthorizationType, 'AWS_IAM');
  assert.ok(template.findOutputs('ResearchApiUrl').ResearchApiUrl, 'the stack has the output ResearchApiUrl');
});

test('no VPC: Lambda agents need no NAT gateway', () => {
  template.resourceCountIs('AWS::EC2::VPC', 0);
  template.resourceCountIs('AWS::EC2::NatGateway', 0);
});

import { App, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SecureApi, SecureApiProps } from '../../src/secure-api';

export const ENV = { account: '123456789012', region: 'us-east-1' };

/** A small inline function for Lambda routes. */
export function itemsFunction(scope: Stack, id = 'Items'): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "[]" });'),
  });
}

export interface ApiStack {
  readonly app: App;
  readonly stack: Stack;
  readonly api: SecureApi;
}

/** A stack holding one SecureApi (no routes but health). */
export function apiStack(props: SecureApiProps | ((stack: Stack) => SecureApiProps) = {}): ApiStack {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const api = new SecureApi(stack, 'Api', typeof props === 'function' ? props(stack) : props);
  return { app, stack, api };
}

/** A stack with a Lambda route, a routed service and an internal service. */
export function fullStack(props: SecureApiProps | ((stack: Stack) => SecureApiProps) = {}): ApiStack & { fn: lambda.Function } {
  const result = apiStack(props);
  const fn = itemsFunction(result.stack);
  result.api.addLambdaRoute('Items', { path: '/items/{id}', methods: [apigwv2.HttpMethod.GET], handler: fn });
  result.api.addService('Web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'), pathPrefix: '/web' });
  const engine = result.api.addInternalService('Engine', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/engine:1'), containerPort: 50051 });
  engine.connections.allowFrom(result.api.services[0], ec2.Port.tcp(50051));
  return { ...result, fn };
}

import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';

/** What a `SecureApi` built for one service (not exported from the package). */
export interface SecureApiServiceParts {
  readonly serviceId: string;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly containerName: string;
  readonly containerPort: number;
  readonly logGroup: logs.LogGroup;
  readonly targetGroup?: elbv2.ApplicationTargetGroup;
  readonly pathPrefix?: string;
  readonly discoveryName?: string;
  readonly repository?: ecr.Repository;
  readonly imageUri: string;
}

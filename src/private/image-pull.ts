import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledgeFindings } from './nag';

/**
 * An image in a private ECR repository (`fromEcrRepository`, `fromAsset`) makes the execution role
 * call `ecr:GetAuthorizationToken`, which has no resource-level permissions and so is granted on
 * `*`. Acknowledges that one wildcard, and only when the role holds it.
 */
export function acknowledgeImagePullToken(taskDefinition: ecs.FargateTaskDefinition): void {
  const role = taskDefinition.executionRole;
  const policy = role?.node.tryFindChild('DefaultPolicy');
  if (!role || !(policy instanceof iam.Policy)) return;
  const statements: Array<{ Action?: string | string[]; Resource?: unknown }> = policy.document.toJSON()?.Statement ?? [];
  const wildcardToken = statements.some((st) => [st.Action].flat().includes('ecr:GetAuthorizationToken') && [st.Resource].flat().includes('*'));
  if (wildcardToken) {
    acknowledgeFindings(role, [{
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken (to pull the image from a private ECR repository) supports no resource-level permissions, so it ' +
        'is granted on *; the image pull itself (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer) is scoped to the repository.',
    }]);
  }
}

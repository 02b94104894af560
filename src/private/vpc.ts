import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { logsKey } from './log-encryption';
import { acknowledgeCdkProviders } from './nag';

/** Properties of `flowLoggedVpc`. */
export interface FlowLoggedVpcProps {
  /** The subnet groups, per AZ. */
  readonly subnetConfiguration: ec2.SubnetConfiguration[];
  /** NAT gateways (0 when no subnet group has egress). */
  readonly natGateways: number;
  /**
   * How the NAT is provided.
   * @default - NAT gateways
   */
  readonly natGatewayProvider?: ec2.NatProvider;
  /** Retention of the flow logs. */
  readonly flowLogRetention: logs.RetentionDays;
  /**
   * AZs the VPC spans (at most: an environment-agnostic stack knows only two). The caller checks
   * the range and that natGateways does not exceed it.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * A customer managed key for the flow log group; its key policy is given the statement that
   * lets CloudWatch Logs use it (`logsKey`).
   * @default - the log group is encrypted by CloudWatch Logs' own key
   */
  readonly flowLogKey?: kms.IKey;
}

/**
 * The VPC a construct creates when it is given none: two AZs (or `maxAzs`), the given subnet
 * groups, and VPC flow logs to a log group of the construct's (`<scope>/Vpc`,
 * `<scope>/FlowLogGroup`).
 */
export function flowLoggedVpc(scope: Construct, props: FlowLoggedVpcProps): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: props.maxAzs ?? 2,
    natGateways: props.natGateways,
    natGatewayProvider: props.natGatewayProvider,
    subnetConfiguration: props.subnetConfiguration,
  });
  vpc.addFlowLog('FlowLogs', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(scope, 'FlowLogGroup', {
      retention: props.flowLogRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: logsKey(props.flowLogKey),
    })),
  });
  acknowledgeCdkProviders(vpc);
  return vpc;
}

/** Public subnets for the NAT gateway and one private group with egress for the workload. */
export function publicAndPrivateSubnets(privateName: string): ec2.SubnetConfiguration[] {
  return [
    { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
    { name: privateName, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
  ];
}

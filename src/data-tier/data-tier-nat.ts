import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { checkBuiltByFactory } from '../private/closed-class';

/** Options of `DataTierNat.instance()`. */
export interface DataTierNatInstanceOptions {
  /**
   * The instance type of each NAT instance. The machine image (Amazon Linux 2023, read from SSM
   * at deploy) follows its architecture: ARM64 for Graviton types, x86_64 otherwise.
   * @default ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO)
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * The machine image of each NAT instance (Amazon Linux 2023 or another image with `dnf`,
   * `iptables-services` and `ip`). The default is read from SSM at every deploy: a deploy after
   * Amazon Linux publishes a new image replaces the instance (a new public address, and a few
   * minutes without egress while it starts). Pin an image to choose when that happens, e.g.
   * `ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-...' })`.
   * @default - the latest Amazon Linux 2023 for the instance type's architecture, read from SSM at deploy
   */
  readonly machineImage?: ec2.IMachineImage;
}

/**
 * What a NAT instance runs at first boot: forwarding on, and outbound traffic masqueraded on its
 * default interface. The package install is retried (on Amazon Linux 2023 it can lose the race
 * with the boot's own package activity, aws/aws-cdk#36717), and a failure fails the boot script
 * loudly (cloud-init's log) instead of leaving an instance that forwards nothing.
 */
const NAT_USER_DATA = [
  'set -euo pipefail',
  'for attempt in 1 2 3 4 5 6 7 8 9 10; do dnf install -y iptables-services && break; '
    + 'echo "dnf install failed (attempt $attempt); retrying"; sleep 10; done',
  'rpm -q iptables-services',
  'systemctl enable --now iptables',
  'echo "net.ipv4.ip_forward=1" > /etc/sysctl.d/90-nat.conf',
  'sysctl -p /etc/sysctl.d/90-nat.conf',
  'iface=$(ip route show default | awk \'{print $5; exit}\')',
  'iptables -t nat -A POSTROUTING -o "$iface" -j MASQUERADE',
  'iptables -F FORWARD',
  'service iptables save',
];

/** How the NAT is provided (internal). */
enum NatKind {
  GATEWAYS = 'gateways',
  INSTANCE = 'instance',
}

/**
 * How the private subnets of a VPC that a `DataTier` creates reach the internet (pulling images,
 * calling AWS APIs without VPC endpoints): managed NAT gateways, or NAT instances. The number of
 * either is `natGateways` (`nat_gateways` in Python), 1 in the ephemeral profile.
 *
 * | | `DataTierNat.gateways()` | `DataTierNat.instance()` |
 * |---|---|---|
 * | what runs | an AWS managed NAT gateway with an Elastic IP | an EC2 instance (`t4g.nano`, Amazon Linux 2023 from SSM) with a public IPv4 address |
 * | fixed cost (us-east-1, 730 h) | $32.85 plus $3.65 for the address | $3.07, its 8 GiB encrypted gp3 root volume $0.64, plus $3.65 for the address |
 * | availability | redundant within its AZ, managed by AWS | one instance, recovered onto new hardware when its host fails (an alarm on its system status check); any other stop stops egress until it is replaced (redeploy) |
 * | bandwidth | scales to 100 Gbps | the instance's, with no guarantee (a t4g.nano bursts to 5 Gbps) |
 * | patching | AWS | the image is read from SSM at every deploy: a deploy after a new Amazon Linux image replaces the instance (a new address, minutes without egress); pin `machineImage` to choose when |
 *
 * The NAT instance admits only traffic from the VPC's CIDR, requires IMDSv2, has no SSH key and
 * encrypts its root volume. It suits throwaway environments (tests, previews) where a lost
 * egress for a while is acceptable; keep gateways for anything that must stay up.
 */
export class DataTierNat {
  /** Managed NAT gateways, one per `natGateways` (`nat_gateways` in Python). */
  public static gateways(): DataTierNat {
    return new DataTierNat({ kind: NatKind.GATEWAYS });
  }

  /**
   * NAT instances (`ec2.NatProvider.instanceV2`), one per `natGateways` (`nat_gateways` in Python):
   * cheaper than a NAT gateway, but one instance with no failover and no bandwidth guarantee.
   *
   * @param options the instance type
   */
  public static instance(options: DataTierNatInstanceOptions = {}): DataTierNat {
    return new DataTierNat({
      kind: NatKind.INSTANCE,
      instanceType: options.instanceType ?? DEFAULT_NAT_INSTANCE_TYPE,
      machineImage: options.machineImage,
    });
  }

  /** `gateways` or `instance`. */
  public readonly kind: string;
  /** The instance type of the NAT instances; absent for gateways. */
  public readonly instanceType?: ec2.InstanceType;
  private readonly machineImage?: ec2.IMachineImage;

  private constructor(values: NatValues) {
    checkBuiltByFactory('DataTierNat', values, 'DataTierNat.gateways() or DataTierNat.instance()');
    this.kind = values.kind;
    this.instanceType = values.instanceType;
    this.machineImage = values.machineImage;
  }

  /**
   * The NAT provider of the VPC: undefined for gateways (the VPC's default, so the template is
   * what it was before this choice existed); for instances, the provider whose instances
   * `_secureInstances` then hardens.
   * @internal
   */
  public _provider(): ec2.NatProvider | undefined {
    if (this.kind === NatKind.GATEWAYS) return undefined;
    const userData = ec2.UserData.forLinux();
    userData.addCommands(...NAT_USER_DATA);
    return ec2.NatProvider.instanceV2({
      instanceType: this.instanceType!,
      ...(this.machineImage ? { machineImage: this.machineImage } : {}),
      userData,
      // The instance needs a public address to reach the internet from the public subnet.
      associatePublicIpAddress: true,
      // Nothing is admitted by default: _secureInstances admits the VPC's CIDR only.
      defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
    });
  }

  /**
   * After the VPC is created: admits only the VPC's CIDR to the NAT instances, requires IMDSv2
   * and encrypts their root volume. Returns the instances (none for gateways).
   * @internal
   */
  public _secureInstances(vpc: ec2.Vpc, provider: ec2.NatProvider | undefined): ec2.Instance[] {
    if (!(provider instanceof ec2.NatInstanceProviderV2)) return [];
    // The VPC's CIDR as written in its template (a literal, so a reviewer and cdk-nag read it).
    const cidr = (vpc.node.defaultChild as ec2.CfnVPC).cidrBlock ?? vpc.vpcCidrBlock;
    provider.connections.allowFrom(ec2.Peer.ipv4(cidr), ec2.Port.allTraffic(), 'From the VPC only (NAT)');
    const instances = provider.gatewayInstances;
    for (const instance of instances) {
      const cfn = instance.node.defaultChild as ec2.CfnInstance;
      cfn.metadataOptions = { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 };
      // Amazon Linux 2023's root device; the size and type stay the image's (8 GiB gp3).
      cfn.blockDeviceMappings = [{ deviceName: '/dev/xvda', ebs: { encrypted: true, deleteOnTermination: true } }];
      // A failed host (the system status check) is recovered onto new hardware, keeping the
      // instance, its address and its routes: the one failure a lone NAT instance can survive.
      const recovery = new cloudwatch.Alarm(instance, 'SystemRecoveryAlarm', {
        alarmDescription: `NAT instance ${instance.node.path} failed its system status check: EC2 recovers it onto new hardware`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/EC2',
          metricName: 'StatusCheckFailed_System',
          dimensionsMap: { InstanceId: instance.instanceId },
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      recovery.addAlarmAction(new cloudwatchActions.Ec2Action(cloudwatchActions.Ec2InstanceAction.RECOVER));
    }
    return instances;
  }
}

/** The NAT instance type unless told otherwise: the smallest Graviton burstable type. */
const DEFAULT_NAT_INSTANCE_TYPE = ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO);

/** The values of a `DataTierNat` (internal). */
interface NatValues {
  readonly kind: NatKind;
  readonly instanceType?: ec2.InstanceType;
  readonly machineImage?: ec2.IMachineImage;
}

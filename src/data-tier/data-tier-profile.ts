import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DataTierNat } from './data-tier-nat';
import { checkBuiltByFactory } from '../private/closed-class';

/** How the PostgreSQL database is run. */
export enum DatabaseKind {
  /** One RDS for PostgreSQL instance (`rds.DatabaseInstance`). */
  INSTANCE = 'INSTANCE',
  /** An Aurora PostgreSQL cluster: a writer and readers (`rds.DatabaseCluster`). */
  AURORA_CLUSTER = 'AURORA_CLUSTER',
}

/**
 * The defaults of a `DataTier`: a throwaway tier for tests and previews
 * (`DataTierProfile.ephemeral()`) or a durable, highly available one
 * (`DataTierProfile.production()`). Each field states what the profile sets; each can be
 * overridden by the prop of the same name on `DataTierProps` (the database kind is what
 * makes a profile and is not overridden).
 *
 * | setting | ephemeral | production |
 * |---|---|---|
 * | databaseKind | INSTANCE (RDS for PostgreSQL) | AURORA_CLUSTER (Aurora PostgreSQL) |
 * | databaseInstanceType | db.t4g.micro | db.r7g.large (writer and each reader) |
 * | allocatedStorage / maxAllocatedStorage | 20 GiB gp3, autoscaling to 100 GiB | - (Aurora storage grows by itself) |
 * | readers | 0 | 1 (in another AZ) |
 * | multiAz | false | true |
 * | backupRetention | 0 (no automated backups) | 7 days |
 * | deletionProtection | false | true |
 * | removalPolicy | DESTROY (no final snapshot) | SNAPSHOT |
 * | performanceInsights | false | true (7 days, free tier) |
 * | exportDatabaseLogs | false | true (`postgresql` log to CloudWatch Logs) |
 * | cacheNodeType | cache.t4g.micro | cache.r7g.large |
 * | cacheReplicas | 0 (one node) | 1 (primary and one replica) |
 * | cacheAutomaticFailover / cacheMultiAz | false / false | true / true |
 * | cacheSnapshotRetention | 0 (no snapshots) | 7 days |
 * | natGateways (new VPC only) | 1 | one per AZ: 2 over the default two AZs, 3 with `maxAzs: 3` |
 * | nat (new VPC only) | `DataTierNat.gateways()` (a NAT instance is a choice: `DataTierNat.instance()`) | `DataTierNat.gateways()` |
 * | alarmsByDefault | false (no alarm unless one is enabled) | true (every alarm of `DataTierAlarms` that applies) |
 */
export class DataTierProfile {
  /**
   * Fast to create, cheap, gone with the stack: for tests, previews and ephemeral environments.
   * Its deliberate choices (no backups, one AZ, no deletion protection) are acknowledged to
   * cdk-nag by the construct with their reasons.
   */
  public static ephemeral(): DataTierProfile {
    return new DataTierProfile({
      name: 'ephemeral',
      databaseKind: DatabaseKind.INSTANCE,
      databaseInstanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      allocatedStorage: Size.gibibytes(20),
      maxAllocatedStorage: Size.gibibytes(100),
      readers: 0,
      multiAz: false,
      backupRetention: Duration.days(0),
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
      performanceInsights: false,
      exportDatabaseLogs: false,
      cacheNodeType: 'cache.t4g.micro',
      cacheReplicas: 0,
      cacheAutomaticFailover: false,
      cacheMultiAz: false,
      cacheSnapshotRetention: Duration.days(0),
      natGateways: 1,
      nat: DataTierNat.gateways(),
      alarmsByDefault: false,
    });
  }

  /** Multi-AZ, backed up, protected from deletion, snapshotted on removal: for data that matters. */
  public static production(): DataTierProfile {
    return new DataTierProfile({
      name: 'production',
      databaseKind: DatabaseKind.AURORA_CLUSTER,
      databaseInstanceType: ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE),
      readers: 1,
      multiAz: true,
      backupRetention: Duration.days(7),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      performanceInsights: true,
      exportDatabaseLogs: true,
      cacheNodeType: 'cache.r7g.large',
      cacheReplicas: 1,
      cacheAutomaticFailover: true,
      cacheMultiAz: true,
      cacheSnapshotRetention: Duration.days(7),
      natGateways: 2,
      nat: DataTierNat.gateways(),
      alarmsByDefault: true,
    });
  }

  /** `ephemeral` or `production`. */
  public readonly name: string;
  /** Ephemeral: `INSTANCE` (RDS for PostgreSQL). Production: `AURORA_CLUSTER` (Aurora PostgreSQL). */
  public readonly databaseKind: DatabaseKind;
  /** Ephemeral: `db.t4g.micro` (Graviton, burstable). Production: `db.r7g.large` (Graviton, memory optimized) for the writer and each reader. */
  public readonly databaseInstanceType: ec2.InstanceType;
  /** Ephemeral: 20 GiB of gp3. Production: undefined (Aurora storage grows by itself). */
  public readonly allocatedStorage?: Size;
  /** Ephemeral: 100 GiB (storage autoscaling limit). Production: undefined (Aurora). */
  public readonly maxAllocatedStorage?: Size;
  /** Aurora readers. Ephemeral: 0 (no cluster). Production: 1, placed in another AZ than the writer. */
  public readonly readers: number;
  /** Ephemeral: false (one AZ). Production: true (a reader in a second AZ takes over from the writer). */
  public readonly multiAz: boolean;
  /** Ephemeral: 0 (no automated backups). Production: 7 days. */
  public readonly backupRetention: Duration;
  /** Ephemeral: false. Production: true. */
  public readonly deletionProtection: boolean;
  /** Ephemeral: `DESTROY` (no final snapshot). Production: `SNAPSHOT` (database and cache). */
  public readonly removalPolicy: RemovalPolicy;
  /** Ephemeral: false. Production: true (7 days of retention, the free tier). */
  public readonly performanceInsights: boolean;
  /** Ephemeral: false. Production: true (the `postgresql` log goes to CloudWatch Logs). */
  public readonly exportDatabaseLogs: boolean;
  /** Ephemeral: `cache.t4g.micro`. Production: `cache.r7g.large`. */
  public readonly cacheNodeType: string;
  /** Ephemeral: 0 (a single node). Production: 1 (a primary and one replica). */
  public readonly cacheReplicas: number;
  /** Ephemeral: false. Production: true (a replica is promoted when the primary fails). */
  public readonly cacheAutomaticFailover: boolean;
  /** Ephemeral: false. Production: true (the replica is in another AZ). */
  public readonly cacheMultiAz: boolean;
  /** Ephemeral: 0 (no snapshots). Production: 7 days of daily snapshots. */
  public readonly cacheSnapshotRetention: Duration;
  /**
   * NAT gateways of a VPC the construct creates. Ephemeral: 1. Production: 2 (one per AZ of the
   * default two AZs; with `maxAzs: 3` the data tier makes it 3, one per AZ).
   */
  public readonly natGateways: number;
  /**
   * How a VPC the construct creates reaches the internet. Both profiles: `DataTierNat.gateways()`
   * (managed NAT gateways). The ephemeral profile keeps gateways too: a NAT instance
   * (`nat: DataTierNat.instance()`, about a tenth of the fixed cost) is one EC2 instance without
   * failover or bandwidth guarantee whose image is refreshed only by a redeploy, and switching
   * a deployed stack to it replaces its egress (and its public address); it is a choice to make,
   * not one to inherit.
   */
  public readonly nat: DataTierNat;
  /**
   * Whether the alarms of `DataTierAlarms` are created when their config does not say (each
   * config's `enabled` overrides it). Ephemeral: false (a throwaway tier pages nobody).
   * Production: true (database CPU, connections, free storage, replica lag where there are
   * readers; cache CPU, memory and evictions).
   */
  public readonly alarmsByDefault: boolean;

  private constructor(values: DataTierProfileValues) {
    checkBuiltByFactory('DataTierProfile', values, 'DataTierProfile.ephemeral() or DataTierProfile.production() (with its options)');
    this.name = values.name;
    this.databaseKind = values.databaseKind;
    this.databaseInstanceType = values.databaseInstanceType;
    this.allocatedStorage = values.allocatedStorage;
    this.maxAllocatedStorage = values.maxAllocatedStorage;
    this.readers = values.readers;
    this.multiAz = values.multiAz;
    this.backupRetention = values.backupRetention;
    this.deletionProtection = values.deletionProtection;
    this.removalPolicy = values.removalPolicy;
    this.performanceInsights = values.performanceInsights;
    this.exportDatabaseLogs = values.exportDatabaseLogs;
    this.cacheNodeType = values.cacheNodeType;
    this.cacheReplicas = values.cacheReplicas;
    this.cacheAutomaticFailover = values.cacheAutomaticFailover;
    this.cacheMultiAz = values.cacheMultiAz;
    this.cacheSnapshotRetention = values.cacheSnapshotRetention;
    this.natGateways = values.natGateways;
    this.nat = values.nat;
    this.alarmsByDefault = values.alarmsByDefault;
  }
}

/** The values of a profile (internal: users pick a profile and override with props). */
interface DataTierProfileValues {
  readonly name: string;
  readonly databaseKind: DatabaseKind;
  readonly databaseInstanceType: ec2.InstanceType;
  readonly allocatedStorage?: Size;
  readonly maxAllocatedStorage?: Size;
  readonly readers: number;
  readonly multiAz: boolean;
  readonly backupRetention: Duration;
  readonly deletionProtection: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly performanceInsights: boolean;
  readonly exportDatabaseLogs: boolean;
  readonly cacheNodeType: string;
  readonly cacheReplicas: number;
  readonly cacheAutomaticFailover: boolean;
  readonly cacheMultiAz: boolean;
  readonly cacheSnapshotRetention: Duration;
  readonly natGateways: number;
  readonly nat: DataTierNat;
  readonly alarmsByDefault: boolean;
}

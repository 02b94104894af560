import { Annotations, CfnOutput, Duration, RemovalPolicy, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { connectionUrlCommand } from './connection-url-command';
import { DataTierNat } from './data-tier-nat';
import { DatabaseKind, DataTierProfile } from './data-tier-profile';
import { estimatedMaxConnections } from './instance-memory';
import { DATA_TIER_ENV, DATA_TIER_PG_SSL_MODE } from '../contract/data-tier';
import type { AlarmConfig } from '../monitoring/alarm-config';
import type { AlarmDestination } from '../monitoring/alarm-destination';
import { AlarmSpec, createAlarms } from '../private/alarms';
import { checkDurationRange, checkRange } from '../private/checks';
import { acknowledgeFindings, NagFinding } from '../private/nag';
import { addStackOutputs } from '../private/outputs';
import { isThrowaway, THROWAWAY_CONTEXT_KEY } from '../private/throwaway';
import { flowLoggedVpc } from '../private/vpc';

/** Properties of a `DataTier`. Every profile value can be overridden here. */
export interface DataTierProps {
  /**
   * The defaults: `DataTierProfile.ephemeral()` (one small RDS instance and one Redis node, no
   * backups, destroyed with the stack) or `DataTierProfile.production()` (Aurora PostgreSQL and a
   * Redis replication group, Multi-AZ, backed up, deletion protected, snapshotted on removal).
   * @default DataTierProfile.ephemeral()
   */
  readonly profile?: DataTierProfile;
  /**
   * The VPC to place the database and the cache in.
   * @default - a new VPC over two AZs (`maxAzs`, `max_azs` in Python): public subnets (NAT gateways), private subnets
   * with egress named `app` for consumers, and isolated subnets named `data` for the stores
   */
  readonly vpc?: ec2.IVpc;
  /**
   * AZs of the VPC the construct creates: 2 or 3 (RDS needs two; Aurora's storage and a Redis
   * replica or two gain nothing from more than three, while each AZ adds subnets and, with one
   * NAT gateway per AZ, a NAT gateway's cost). Three AZs need a stack with an explicit
   * environment (account and region): an environment-agnostic stack knows only two. Not allowed
   * together with `vpc`.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * The subnets of the database and the cache; they must span at least two AZs (RDS requires it).
   * @default - with a new VPC its `data` subnets; with a given VPC its isolated subnets, or its
   * private subnets with egress when it has no isolated ones
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * NAT gateways of the VPC the construct creates, 0 to `maxAzs` (`max_azs` in Python) (0 leaves out public and `app`
   * subnets: the VPC then holds only the isolated `data` subnets; `maxAzs` gives one per AZ).
   * Not allowed together with `vpc`.
   * @default - the profile's: 1 (ephemeral), 2 (production)
   */
  readonly natGateways?: number;
  /**
   * How the private subnets of the VPC the construct creates reach the internet:
   * `DataTierNat.gateways()` (managed NAT gateways) or `DataTierNat.instance()` (NAT instances,
   * `t4g.nano` by default: about a tenth of a gateway's fixed cost, but one instance without
   * failover or bandwidth guarantee; for throwaway environments). There are `natGateways`
   * (`nat_gateways` in Python) of either. Not allowed together with `vpc`, nor with
   * `natGateways: 0` (no NAT at all).
   * @default - the profile's: DataTierNat.gateways() (both profiles)
   */
  readonly nat?: DataTierNat;
  /**
   * Name of the database created at launch (letters, digits and `_`, starting with a letter).
   * @default 'app'
   */
  readonly databaseName?: string;
  /**
   * The master user name; its password is generated into the database secret.
   * @default 'app_admin'
   */
  readonly databaseUsername?: string;
  /**
   * PostgreSQL version, full (`'16.13'`) or major only (`'16'`: RDS then picks its current default
   * minor version). RDS retires old minor versions; minor upgrades are applied automatically.
   * @default '16.13'
   */
  readonly postgresVersion?: string;
  /**
   * Instance class of the database (of the writer and each reader, for Aurora).
   * @default - the profile's: db.t4g.micro (ephemeral), db.r7g.large (production)
   */
  readonly databaseInstanceType?: ec2.InstanceType;
  /**
   * Storage allocated at launch (RDS instance only; whole GiB, at least 20).
   * @default - the profile's: 20 GiB of gp3 (ephemeral)
   */
  readonly allocatedStorage?: Size;
  /**
   * Upper limit of storage autoscaling (RDS instance only); equal to `allocatedStorage` (`allocated_storage` in Python) turns
   * autoscaling off.
   * @default - the profile's: 100 GiB (ephemeral)
   */
  readonly maxAllocatedStorage?: Size;
  /**
   * Number of Aurora readers (Aurora only).
   * @default - the profile's: 1 (production)
   */
  readonly readers?: number;
  /**
   * Whether the database survives the loss of an AZ: a standby for an instance, at least one
   * reader in another AZ for Aurora.
   * @default - the profile's: false (ephemeral), true (production)
   */
  readonly multiAz?: boolean;
  /**
   * Retention of automated database backups, whole days (0 turns them off; Aurora needs 1 to 35).
   * In the ephemeral profile, backups need a `removalPolicy` (`removal_policy` in Python) that keeps data (RETAIN or SNAPSHOT):
   * backups deleted with the stack protect nothing.
   * @default - the profile's: 0 (ephemeral), 7 days (production)
   */
  readonly backupRetention?: Duration;
  /**
   * Whether the database refuses to be deleted. Not allowed with `removalPolicy` (`removal_policy` in Python) DESTROY, nor
   * under the throwaway switch unless `removalPolicy` keeps the data.
   * @default - the profile's: false (ephemeral), true (production)
   */
  readonly deletionProtection?: boolean;
  /**
   * What happens to the database, the cache and their secrets when they leave the stack. With
   * SNAPSHOT the database and the cache leave a final snapshot and the secrets are retained (a
   * snapshot is of no use without its password); with DESTROY nothing is left.
   * @default - DESTROY under the throwaway switch (`Throwaway.enable(scope)`); otherwise the
   * profile's: DESTROY (ephemeral), SNAPSHOT (production)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Whether Performance Insights is on (7 days of retention).
   * @default - the profile's: false (ephemeral), true (production)
   */
  readonly performanceInsights?: boolean;
  /**
   * Whether the `postgresql` log is exported to CloudWatch Logs.
   * @default - the profile's: false (ephemeral), true (production)
   */
  readonly exportDatabaseLogs?: boolean;
  /**
   * ElastiCache node type, e.g. `cache.t4g.small`.
   * @default - the profile's: cache.t4g.micro (ephemeral), cache.r7g.large (production)
   */
  readonly cacheNodeType?: string;
  /**
   * Number of Redis replicas besides the primary (0 to 5).
   * @default - the profile's: 0 (ephemeral), 1 (production)
   */
  readonly cacheReplicas?: number;
  /**
   * Whether a replica is promoted when the primary fails (needs a replica).
   * @default - the profile's: false (ephemeral), true (production)
   */
  readonly cacheAutomaticFailover?: boolean;
  /**
   * Whether the Redis replicas are placed in other AZs (needs automatic failover).
   * @default - the profile's: false (ephemeral), true (production)
   */
  readonly cacheMultiAz?: boolean;
  /**
   * Retention of daily Redis snapshots, whole days (0 turns them off, at most 35).
   * @default - the profile's: 0 (ephemeral), 7 days (production)
   */
  readonly cacheSnapshotRetention?: Duration;
  /**
   * Redis engine version.
   * @default '7.1'
   */
  readonly cacheEngineVersion?: string;
  /**
   * A customer managed key for the database storage, Performance Insights, the cache, both
   * secrets and the log group of the VPC flow logs when the construct creates the VPC. A key
   * created in the app is given a key policy statement letting CloudWatch Logs of its account
   * and region use it; an imported key's policy must already allow `logs.<region>.amazonaws.com`.
   * The exported `postgresql` log (`exportDatabaseLogs`, `export_database_logs` in Python) goes to a log group RDS creates itself
   * (`/aws/rds/instance/<id>/postgresql` or `/aws/rds/cluster/<id>/postgresql`), which this key
   * does not encrypt.
   * @default - AWS managed keys (and CloudWatch Logs' own encryption for the flow logs)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The alarms to create and their settings, one optional config per alarm (see
   * `DataTierAlarms`). What a config leaves out takes the alarm's default; whether an alarm is
   * created by default is the profile's `alarmsByDefault` (`alarms_by_default` in Python).
   * @default - the profile's: no alarm (ephemeral), every alarm that applies (production)
   */
  readonly alarms?: DataTierAlarms;
  /**
   * Where the alarms notify when they go into ALARM.
   * @default - alarms notify nobody; see AlarmDestination.notifyAlarmsIn
   */
  readonly alarmActions?: AlarmDestination;
}

/**
 * The alarms of a `DataTier`. Each member is the config of one alarm; an alarm is created when
 * its `enabled` says so or, when it does not, when the profile's `alarmsByDefault` does (true in
 * the production profile, false in the ephemeral one). Periods are 5 minutes unless a config
 * says otherwise. Alarm names are `<unique name of the data tier>-<Alarm>`, e.g.
 * `...-DatabaseCpu`.
 */
export interface DataTierAlarms {
  /**
   * Database CPU (`metricDatabaseCpu`: CPUUtilization, the instance's average, or the busiest
   * Aurora instance's maximum) at or above 80 % for 3 periods.
   * @default - threshold 80, 3 periods; on in the production profile, off in the ephemeral one
   */
  readonly databaseCpu?: AlarmConfig;
  /**
   * Database connections (`metricDatabaseConnections`: DatabaseConnections, maximum) at or
   * above 80 % of PostgreSQL's default `max_connections` for the instance class, for 3 periods.
   * The default is LEAST(DBInstanceClassMemory/9531392, 5000), with DBInstanceClassMemory
   * estimated as the class's memory less the larger of 300 MiB and 10 % (it errs low): 63 for
   * db.t4g.micro, 1297 for db.r7g.large. For a class whose memory the construct does not know
   * (families other than T, M, R, X2g, X2i and z1d, or a token) the default threshold is 80 and
   * a synth warning asks for a threshold. If you set max_connections in a parameter group, set
   * the threshold too.
   * @default - 80 % of the estimated max_connections, 3 periods; on in the production profile, off in the ephemeral one
   */
  readonly databaseConnections?: AlarmConfig;
  /**
   * Free database storage below a number of bytes. For an RDS instance: FreeStorageSpace
   * (minimum) below 10 % of `allocatedStorage` for 3 periods, long enough for storage
   * autoscaling (which acts when less than 10 % is free for 5 minutes) to have grown the volume
   * first, so the alarm means autoscaling could not help (maximum reached, or within 6 hours of
   * the last growth). For Aurora, whose cluster volume grows by itself: FreeLocalStorage
   * (minimum over the instances: the local storage of temporary tables, sorts and logs) below
   * 2 GiB for 1 period.
   * @default - instance: 10 % of allocatedStorage, 3 periods; Aurora: 2 GiB (2147483648 bytes), 1 period; on in the production profile, off in the ephemeral one
   */
  readonly databaseFreeStorage?: AlarmConfig;
  /**
   * Aurora replica lag (`metricDatabaseReplicaLag`: AuroraReplicaLagMaximum, the most any
   * reader lags behind the writer, in milliseconds) at or above 1000 ms for 3 periods (Aurora
   * readers usually lag by well under 100 ms). Only where the database has readers: an Aurora
   * cluster with `readers` of 1 or more. An RDS instance has no readers (its Multi-AZ standby
   * is not readable and publishes no lag), so configuring this alarm there is refused, except
   * with `enabled: false`.
   * @default - threshold 1000 ms, 3 periods; on in the production profile (which has a reader), off in the ephemeral one
   */
  readonly databaseReplicaLag?: AlarmConfig;
  /**
   * Redis engine CPU (`metricCacheCpu`: EngineCPUUtilization, the busiest node) at or above
   * 80 % for 3 periods. Redis runs commands on one thread, so the engine thread saturates long
   * before the host's CPUUtilization does on nodes with several vCPUs.
   * @default - threshold 80, 3 periods; on in the production profile, off in the ephemeral one
   */
  readonly cacheCpu?: AlarmConfig;
  /**
   * Redis memory (`metricCacheMemory`: DatabaseMemoryUsagePercentage, the fullest node) at or
   * above 80 % for 3 periods: past it, Redis starts evicting keys.
   * @default - threshold 80, 3 periods; on in the production profile, off in the ephemeral one
   */
  readonly cacheMemory?: AlarmConfig;
  /**
   * Redis evictions (`metricCacheEvictions`: Evictions, sum per period on the node that evicts
   * most) at or above 100 per period for 3 periods: keys are dropped for lack of memory, so
   * reads miss and anything stored only in Redis is lost.
   * @default - threshold 100, 3 periods; on in the production profile, off in the ephemeral one
   */
  readonly cacheEvictions?: AlarmConfig;
}

/** Options of `DataTier.addOutputs` (`DataTier.add_outputs` in Python). */
export interface DataTierOutputsOptions {
  /**
   * The start of every output's logical id (letters and digits, starting with a letter): the
   * outputs are `<prefix>DatabaseEndpoint`, `<prefix>CacheEndpoint`, ...
   * @default - the data tier's path in its stack, letters and digits only (`Data` for a `DataTier` with the id `Data` at the top of its stack)
   */
  readonly outputIdPrefix?: string;

  /**
   * Exports the outputs as `<exportNamePrefix>-<name>` (e.g. `data-DatabaseEndpoint`), for other
   * stacks of the account and region to read with `Fn.importValue`.
   * @default - the outputs are not exported
   */
  readonly exportNamePrefix?: string;
}

/** AZs of a VPC the construct creates, unless maxAzs says otherwise. */
const DEFAULT_MAX_AZS = 2;
/** Aurora's databaseFreeStorage alarm: free local storage below 2 GiB. */
const AURORA_FREE_LOCAL_STORAGE_THRESHOLD = Size.gibibytes(2);

/** The PostgreSQL version both kinds run unless told otherwise. */
const DEFAULT_POSTGRES_VERSION = '16.13';
/** The PostgreSQL port of the data tier. */
const DATABASE_PORT = 5432;
/** The Redis port of the data tier. */
const CACHE_PORT = 6379;

/**
 * PostgreSQL and Redis in private subnets, for agents and services that keep state: an RDS
 * instance or an Aurora PostgreSQL cluster, an ElastiCache Redis replication group, their
 * credentials in Secrets Manager, and security groups that admit nobody until you connect a peer.
 *
 * Both stores are encrypted at rest and accept TLS only (`rds.force_ssl`, Redis in-transit
 * encryption `required` with an AUTH token). Consumers get their credentials as secrets, never as
 * plaintext environment variables: `bindToContainer` for ECS, `bindToFunction` for Lambda.
 *
 * The profile (`DataTierProfile.ephemeral()` by default, or `production()`) sets every default;
 * each one can be overridden with a prop.
 */
export class DataTier extends Construct {
  /**
   * The command of an ECS container whose app reads `DATABASE_URL` and `REDIS_URL`: a `/bin/sh`
   * wrapper that builds both URLs at container start from the settings `bindToContainer` hands
   * over, then `exec`s `command` (the app's own command, which a container command puts in place
   * of the image's CMD). Give the result as the container's `command` (e.g. the `command` of
   * `SecureApi.addService`) and bind the container with `bindToContainer`.
   *
   * `DATABASE_URL` is `postgresql://<user>:<password>@<host>:5432/<database>?sslmode=require`,
   * `REDIS_URL` is `rediss://:<token>@<host>:6379`, percent-encoded. Nothing holding the password
   * is in the template or the task definition: ECS reads `PGPASSWORD` and `REDIS_AUTH_TOKEN`
   * from Secrets Manager at each task start, so every new task gets the current password. A
   * missing setting stops the container before the app starts, naming the variable. The image
   * needs `/bin/sh` and either no ENTRYPOINT or one that runs its arguments (`tini --`,
   * `docker-entrypoint.sh`); for an image without a shell, use the Python helper's launcher
   * (`agents/python-data-tier/data_tier_urls.py`).
   *
   * @param command the app's command, e.g. `['uvicorn', 'app.main:app', '--port', '8000']`
   * @returns `['/bin/sh', '-c', <script>, 'data-tier-urls', ...command]`
   */
  public static connectionUrlCommand(command: string[]): string[] {
    return connectionUrlCommand(command);
  }

  /** The profile the defaults came from. */
  public readonly profile: DataTierProfile;
  /** The VPC of both stores (given or created). */
  public readonly vpc: ec2.IVpc;
  /** The subnets of both stores. */
  public readonly dataSubnets: ec2.SelectedSubnets;
  /** The database kind: an RDS instance or an Aurora cluster. */
  public readonly databaseKind: DatabaseKind;
  /** The RDS for PostgreSQL instance; absent when the database is an Aurora cluster. */
  public readonly databaseInstance?: rds.DatabaseInstance;
  /** The Aurora PostgreSQL cluster; absent when the database is an RDS instance. */
  public readonly databaseCluster?: rds.DatabaseCluster;
  /** The database endpoint consumers connect to (the writer endpoint of a cluster). */
  public readonly databaseEndpoint: rds.Endpoint;
  /** Name of the database created at launch. */
  public readonly databaseName: string;
  /**
   * The database credentials: JSON with `username`, `password`, `host`, `port`, `engine`,
   * generated by Secrets Manager (the password never appears in a template).
   */
  public readonly databaseSecret: secretsmanager.ISecret;
  /** The Redis replication group. */
  public readonly cacheReplicationGroup: elasticache.CfnReplicationGroup;
  /** Host name of the Redis primary endpoint. */
  public readonly cacheEndpointAddress: string;
  /** The Redis port. */
  public readonly cachePort: number;
  /** The Redis AUTH token: a plain string secret (64 letters and digits) generated by Secrets Manager. */
  public readonly cacheAuthSecret: secretsmanager.ISecret;
  /** Network access to the database: `dataTier.databaseConnections.allowDefaultPortFrom(peer)`. */
  public readonly databaseConnections: ec2.Connections;
  /** Network access to the cache: `dataTier.cacheConnections.allowDefaultPortFrom(peer)`. */
  public readonly cacheConnections: ec2.Connections;
  /** The database's security group (no ingress until a peer is admitted, no egress). */
  public readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /** The cache's security group (no ingress until a peer is admitted, no egress). */
  public readonly cacheSecurityGroup: ec2.ISecurityGroup;
  /** Readers of the database: the Aurora cluster's readers, 0 for an RDS instance. */
  public readonly databaseReaders: number;
  /** Nodes of the Redis replication group: the primary and its replicas. */
  public readonly cacheNodes: number;
  /** The alarms created (see `DataTierAlarms`), in the order of its members. */
  public readonly alarms: cloudwatch.Alarm[];
  /**
   * The NAT instances of the VPC the construct created, with `nat: DataTierNat.instance()`;
   * empty with NAT gateways, without NAT or with a given VPC.
   */
  public readonly natInstances: ec2.Instance[] = [];

  constructor(scope: Construct, id: string, props: DataTierProps = {}) {
    super(scope, id);
    this.profile = props.profile ?? DataTierProfile.ephemeral();
    this.databaseKind = this.profile.databaseKind;
    const aurora = this.databaseKind === DatabaseKind.AURORA_CLUSTER;
    const throwaway = isThrowaway(this);
    const s = resolveSettings(this.profile, props, throwaway);
    validate(this.profile, props, s, aurora, throwaway);

    this.vpc = props.vpc ?? this.createVpc(s, props.encryptionKey);
    this.dataSubnets = this.vpc.selectSubnets(props.subnets ?? defaultSubnets(this.vpc, !props.vpc));
    this.validateSubnets(s.multiAz || s.cacheMultiAz, props);

    this.databaseSecurityGroup = this.createSecurityGroup('DatabaseSecurityGroup', 'PostgreSQL');
    this.databaseConnections = connectionsOf(this.databaseSecurityGroup, DATABASE_PORT);
    this.databaseName = s.databaseName;
    const database = aurora ? this.createAuroraCluster(s, props.encryptionKey) : this.createDatabaseInstance(s, props.encryptionKey);
    this.databaseCluster = database.cluster;
    this.databaseInstance = database.instance;
    this.databaseEndpoint = database.endpoint;
    this.databaseSecret = database.secret;
    this.applyGeneratedSecretRemoval(s);

    this.cacheSecurityGroup = this.createSecurityGroup('CacheSecurityGroup', 'Redis');
    this.cacheConnections = connectionsOf(this.cacheSecurityGroup, CACHE_PORT);
    this.cacheAuthSecret = this.createCacheAuthSecret(s, props.encryptionKey);
    this.cacheReplicationGroup = this.createCache(s, props.encryptionKey);
    this.cacheEndpointAddress = this.cacheReplicationGroup.attrPrimaryEndPointAddress;
    this.cachePort = CACHE_PORT;
    this.databaseReaders = aurora ? s.readers : 0;
    this.cacheNodes = 1 + s.cacheReplicas;

    this.alarms = this.createAlarms(s, props);
    this.acknowledge(s, aurora);
  }

  /**
   * CPUUtilization of the database (`AWS/RDS`, percent): for an RDS instance its average
   * (dimension DBInstanceIdentifier); for Aurora the maximum over the writer and the readers
   * (dimension DBClusterIdentifier), so the busiest instance shows.
   *
   * @param props options that override the defaults (statistic, period, label, ...)
   */
  public metricDatabaseCpu(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.databaseMetric('CPUUtilization', {
      statistic: this.databaseCluster ? cloudwatch.Stats.MAXIMUM : cloudwatch.Stats.AVERAGE,
      label: 'Database CPU (%)',
      ...props,
    });
  }

  /**
   * DatabaseConnections of the database (`AWS/RDS`, count, maximum): connections in use on the
   * instance, or on the Aurora instance with the most (dimension DBInstanceIdentifier or
   * DBClusterIdentifier). Compare it with `max_connections`, which is per instance.
   *
   * @param props options that override the defaults (statistic, period, label, ...)
   */
  public metricDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.databaseMetric('DatabaseConnections', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Database connections', ...props });
  }

  /**
   * Free storage of the database (`AWS/RDS`, bytes, minimum). For an RDS instance
   * FreeStorageSpace: what is left of its allocated storage (dimension DBInstanceIdentifier).
   * For Aurora FreeLocalStorage: the local storage of the Aurora instance with the least left
   * (dimension DBClusterIdentifier), used for temporary tables, sorts and logs; the cluster
   * volume that holds the data grows by itself and has no free space to watch.
   *
   * @param props options that override the defaults (statistic, period, label, ...)
   */
  public metricDatabaseFreeStorage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.databaseCluster
      ? this.databaseMetric('FreeLocalStorage', { statistic: cloudwatch.Stats.MINIMUM, label: 'Database free local storage (bytes)', ...props })
      : this.databaseMetric('FreeStorageSpace', { statistic: cloudwatch.Stats.MINIMUM, label: 'Database free storage (bytes)', ...props });
  }

  /**
   * Replica lag of the Aurora readers (`AWS/RDS` AuroraReplicaLagMaximum, milliseconds,
   * maximum; dimension DBClusterIdentifier): the most any reader lags behind the writer. It
   * exists only where the database has readers (`databaseReaders` above 0); an RDS instance has
   * none (its Multi-AZ standby is not readable and publishes no lag), and asking for the metric
   * of a database without readers throws rather than return a metric that never has data.
   *
   * @param props options that override the defaults (statistic, period, label, ...)
   */
  public metricDatabaseReplicaLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (this.databaseReaders === 0) {
      throw new Error(`${OWNER}.metricDatabaseReplicaLag: ${this.node.path} has no readers (${this.databaseCluster ? 'an Aurora cluster with readers: 0' : 'an RDS instance'}), ` +
        'so there is no replica lag to measure; check databaseReaders first, or use DataTierProfile.production() (or readers: 1 or more) for readers');
    }
    return this.databaseMetric('AuroraReplicaLagMaximum', { statistic: cloudwatch.Stats.MAXIMUM, label: 'Aurora replica lag (ms)', ...props });
  }

  /**
   * Redis engine CPU (`AWS/ElastiCache` EngineCPUUtilization, percent, average per node): the
   * CPU of the thread that runs Redis commands. ElastiCache publishes it per node, with the
   * dimension CacheClusterId of each member of the replication group (`<group id>-001`,
   * `-002`, ...): with one node this is that node's metric; with replicas it is the highest of
   * the nodes (a MAX math expression), so the primary shows wherever a failover moved it.
   *
   * @param props options of each node's metric (statistic, unit) and of the result (period, label, color)
   */
  public metricCacheCpu(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.cacheMetric('EngineCPUUtilization', { statistic: cloudwatch.Stats.AVERAGE, label: 'Redis engine CPU (%)', ...props });
  }

  /**
   * Redis memory (`AWS/ElastiCache` DatabaseMemoryUsagePercentage, percent of `maxmemory`,
   * average per node), per node (dimension CacheClusterId) as for `metricCacheCpu`: the
   * fullest node's.
   *
   * @param props options of each node's metric (statistic, unit) and of the result (period, label, color)
   */
  public metricCacheMemory(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.cacheMetric('DatabaseMemoryUsagePercentage', { statistic: cloudwatch.Stats.AVERAGE, label: 'Redis memory used (%)', ...props });
  }

  /**
   * Redis evictions (`AWS/ElastiCache` Evictions, keys evicted for lack of memory, sum per
   * period), per node (dimension CacheClusterId) as for `metricCacheCpu`: the node that evicted
   * most (evictions happen on the primary; replicas apply its deletions).
   *
   * @param props options of each node's metric (statistic, unit) and of the result (period, label, color)
   */
  public metricCacheEvictions(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    return this.cacheMetric('Evictions', { statistic: cloudwatch.Stats.SUM, label: 'Redis evictions', ...props });
  }

  /**
   * Admits a peer (a service, a function, a security group) to both stores on their ports
   * (PostgreSQL 5432, Redis 6379).
   */
  public allowDefaultPortsFrom(peer: ec2.IConnectable): void {
    this.databaseConnections.allowDefaultPortFrom(peer, 'peer to PostgreSQL');
    this.cacheConnections.allowDefaultPortFrom(peer, 'peer to Redis');
  }

  /** Grants reading both secrets (and decrypting them, with a customer managed key). */
  public grantReadCredentials(grantee: iam.IGrantable): iam.Grant {
    return this.databaseSecret.grantRead(grantee).combine(this.cacheAuthSecret.grantRead(grantee));
  }

  /**
   * The plain (non-secret) settings a consumer gets: `PGHOST`, `PGPORT`, `PGDATABASE`,
   * `PGSSLMODE=require`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_TLS=true`.
   */
  public connectionEnvironment(): { [name: string]: string } {
    return {
      [DATA_TIER_ENV.pgHost]: this.databaseEndpoint.hostname,
      [DATA_TIER_ENV.pgPort]: String(DATABASE_PORT),
      [DATA_TIER_ENV.pgDatabase]: this.databaseName,
      [DATA_TIER_ENV.pgSslMode]: DATA_TIER_PG_SSL_MODE,
      [DATA_TIER_ENV.redisHost]: this.cacheEndpointAddress,
      [DATA_TIER_ENV.redisPort]: String(CACHE_PORT),
      [DATA_TIER_ENV.redisTls]: 'true',
    };
  }

  /**
   * The secret settings of an ECS container, injected by ECS from Secrets Manager at task start:
   * `PGUSER`, `PGPASSWORD` (fields of the database secret) and `REDIS_AUTH_TOKEN`.
   */
  public containerSecrets(): { [name: string]: ecs.Secret } {
    return {
      [DATA_TIER_ENV.pgUser]: ecs.Secret.fromSecretsManager(this.databaseSecret, 'username'),
      [DATA_TIER_ENV.pgPassword]: ecs.Secret.fromSecretsManager(this.databaseSecret, 'password'),
      [DATA_TIER_ENV.redisAuthToken]: ecs.Secret.fromSecretsManager(this.cacheAuthSecret),
    };
  }

  /**
   * Hands the data tier's settings to an ECS container: the plain ones of
   * `connectionEnvironment()` as environment variables, the secret ones of `containerSecrets()`
   * as ECS secrets (ECS reads them with the task's execution role, which this grants).
   *
   * No `DATABASE_URL` secret is produced: the password is generated by Secrets Manager and a URL
   * holding it would be a second, derived secret that goes stale when the password rotates.
   * `DATABASE_URL` and `REDIS_URL` are built in the container from these settings: at container
   * start by the wrapper of `DataTier.connectionUrlCommand` (for an app that reads them as they
   * are), or by a runtime helper (`connectionSettingsFromEnvironment` in Node.js,
   * `data_tier_urls.py` in Python). Admit the service with `allowDefaultPortsFrom`.
   */
  public bindToContainer(container: ecs.ContainerDefinition): void {
    const environment = this.connectionEnvironment();
    for (const [name, value] of Object.entries(environment)) {
      container.addEnvironment(name, value);
    }
    for (const [name, secret] of Object.entries(this.containerSecrets())) {
      container.addSecret(name, secret);
    }
    acknowledgeFindings(container.taskDefinition, [{
      id: 'AwsSolutions-ECS2',
      reason: `The environment variables DataTier.bindToContainer() adds (${Object.keys(environment).join(', ')}) ` +
        'hold host names, ports, the database name and TLS flags, none of them secret; the credentials go in as ECS secrets from Secrets Manager.',
    }]);
  }

  /**
   * Hands the data tier to a Lambda function in its VPC: sets the plain settings of
   * `connectionEnvironment()` and `DATABASE_SECRET_ARN` / `REDIS_AUTH_SECRET_ARN` (the function
   * reads the secrets at run time; no secret value is put in its environment), grants reading
   * both secrets, and admits the function to both stores.
   */
  public bindToFunction(fn: lambda.Function): void {
    if (!fn.isBoundToVpc) {
      throw new Error(`DataTier.bindToFunction: function ${fn.node.path} is not in a VPC, so it cannot reach the data tier; ` +
        'create it with vpc: dataTier.vpc (and subnets with egress or a Secrets Manager endpoint, to read the secrets)');
    }
    for (const [name, value] of Object.entries(this.connectionEnvironment())) {
      fn.addEnvironment(name, value);
    }
    fn.addEnvironment(DATA_TIER_ENV.databaseSecretArn, this.databaseSecret.secretArn);
    fn.addEnvironment(DATA_TIER_ENV.redisAuthSecretArn, this.cacheAuthSecret.secretArn);
    this.grantReadCredentials(fn);
    this.allowDefaultPortsFrom(fn);
  }

  /**
   * Adds stack outputs a person or a script reads after deploy: `<prefix>DatabaseEndpoint`,
   * `<prefix>DatabasePort`, `<prefix>DatabaseName`, `<prefix>DatabaseSecretArn`,
   * `<prefix>CacheEndpoint`, `<prefix>CachePort` and `<prefix>CacheAuthSecretArn`. Secrets appear
   * by ARN only, never by value: read them with Secrets Manager (`get-secret-value`) where IAM
   * allows it. The data tier creates no output unless this is called. Call it once.
   *
   * @param options the logical id prefix and, to export them, the export name prefix
   * @returns the outputs, in the order above
   */
  public addOutputs(options: DataTierOutputsOptions = {}): CfnOutput[] {
    const path = this.node.path;
    return addStackOutputs(this, 'DataTier.addOutputs', [
      { name: 'DatabaseEndpoint', value: this.databaseEndpoint.hostname, description: `PostgreSQL host of ${path} (TLS only${this.databaseCluster ? ', the writer endpoint' : ''})` },
      { name: 'DatabasePort', value: String(DATABASE_PORT), description: `PostgreSQL port of ${path}` },
      { name: 'DatabaseName', value: this.databaseName, description: `Database created at launch in ${path}` },
      { name: 'DatabaseSecretArn', value: this.databaseSecret.secretArn, description: `ARN of the Secrets Manager secret of the database credentials of ${path} (JSON: username, password, host, port)` },
      { name: 'CacheEndpoint', value: this.cacheEndpointAddress, description: `Redis primary endpoint of ${path} (TLS and AUTH token required)` },
      { name: 'CachePort', value: String(CACHE_PORT), description: `Redis port of ${path}` },
      { name: 'CacheAuthSecretArn', value: this.cacheAuthSecret.secretArn, description: `ARN of the Secrets Manager secret of the Redis AUTH token of ${path}` },
    ], options);
  }

  /**
   * A VPC over `maxAzs` AZs: public subnets for the NAT gateways, `app` for consumers, `data`
   * for the stores; its flow log group encrypted with the data tier's key, if any.
   */
  private createVpc(s: ResolvedSettings, encryptionKey: kms.IKey | undefined): ec2.Vpc {
    const natGatewayProvider = s.natGateways > 0 ? s.nat._provider() : undefined;
    const subnetConfiguration: ec2.SubnetConfiguration[] = s.natGateways > 0
      ? [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ]
      : [{ name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }];
    const vpc = flowLoggedVpc(this, {
      subnetConfiguration,
      natGateways: s.natGateways,
      natGatewayProvider,
      maxAzs: s.maxAzs,
      flowLogRetention: logs.RetentionDays.ONE_MONTH,
      flowLogKey: encryptionKey,
    });
    if (vpc.availabilityZones.length < s.maxAzs) {
      fail(`maxAzs is ${s.maxAzs}, but the stack knows only ${vpc.availabilityZones.length} AZs (${vpc.availabilityZones.join(', ')}): ` +
        'an environment-agnostic stack knows two; give the stack an env (account and region) for three AZs, or leave maxAzs at 2');
    }
    this.natInstances.push(...s.nat._secureInstances(vpc, natGatewayProvider));
    return vpc;
  }

  /** A metric of the database in AWS/RDS: of the instance, or of the Aurora cluster. */
  private databaseMetric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return (this.databaseCluster ?? this.databaseInstance)!.metric(metricName, props);
  }

  /**
   * A Redis metric in AWS/ElastiCache. ElastiCache publishes per node only, with the dimension
   * CacheClusterId of each member of the replication group (`<group id>-001`, `-002`, ...), not
   * per replication group: one node's metric, or the highest of the nodes at each point.
   */
  private cacheMetric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.IMetric {
    const groupId = this.cacheReplicationGroup.ref;
    const nodes = Array.from({ length: this.cacheNodes }, (_, i) => new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { CacheClusterId: `${groupId}-${String(i + 1).padStart(3, '0')}` },
      ...props,
      label: this.cacheNodes === 1 ? props.label : `${props.label ?? metricName} (node ${i + 1})`,
    }));
    if (nodes.length === 1) return nodes[0];
    // Ids unique per metric, so that several of these expressions can share a graph.
    const id = (i: number) => `${metricName.toLowerCase()}_node${i + 1}`;
    return new cloudwatch.MathExpression({
      expression: `MAX([${nodes.map((_, i) => id(i)).join(', ')}])`,
      usingMetrics: Object.fromEntries(nodes.map((m, i) => [id(i), m])),
      label: props.label ?? metricName,
      period: props.period,
      color: props.color,
    });
  }

  /** The alarms of `DataTierAlarms` that apply to this configuration, with their defaults. */
  private createAlarms(s: ResolvedSettings, props: DataTierProps): cloudwatch.Alarm[] {
    const aurora = this.databaseCluster !== undefined;
    const configs: { [key: string]: AlarmConfig | undefined } = { ...props.alarms };
    const lag = configs.databaseReplicaLag;
    if (this.databaseReaders === 0 && lag !== undefined) {
      if (lag.enabled !== false) {
        fail(`alarms.databaseReplicaLag is configured, but the database has no readers (${aurora ? 'an Aurora cluster with readers: 0' : 'an RDS instance; its Multi-AZ standby is not readable and publishes no lag'}): ` +
          'there is no replica lag to alarm on; leave it out, or use DataTierProfile.production() (or readers: 1 or more)');
      }
      delete configs.databaseReplicaLag;
    }
    const on = s.alarmsByDefault;
    const gte = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const specs: AlarmSpec[] = [
      {
        key: 'databaseCpu',
        name: 'DatabaseCpu',
        enabled: on,
        evaluationPeriods: 3,
        comparison: gte,
        threshold: 80,
        description: `CPU of the database of ${this.node.path} is at or above the threshold (percent)`,
        metric: (period) => this.metricDatabaseCpu({ period }),
      },
      {
        key: 'databaseConnections',
        name: 'DatabaseConnections',
        enabled: on,
        evaluationPeriods: 3,
        comparison: gte,
        threshold: this.connectionsThreshold(s, configs.databaseConnections),
        description: `Connections to the database of ${this.node.path} are at or above the threshold (about 80 % of max_connections by default)`,
        metric: (period) => this.metricDatabaseConnections({ period }),
      },
      {
        key: 'databaseFreeStorage',
        name: 'DatabaseFreeStorage',
        enabled: on,
        evaluationPeriods: aurora ? 1 : 3,
        comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: aurora ? AURORA_FREE_LOCAL_STORAGE_THRESHOLD.toBytes() : Math.floor(s.allocatedStorage!.toBytes() * 0.1),
        description: aurora
          ? `Free local storage of an Aurora instance of ${this.node.path} is below the threshold (bytes)`
          : `Free storage of the database of ${this.node.path} is below the threshold (bytes), and storage autoscaling has not grown it`,
        metric: (period) => this.metricDatabaseFreeStorage({ period }),
      },
      ...(this.databaseReaders > 0 ? [{
        key: 'databaseReplicaLag',
        name: 'DatabaseReplicaLag',
        enabled: on,
        evaluationPeriods: 3,
        comparison: gte,
        threshold: 1000,
        description: `An Aurora reader of ${this.node.path} lags behind the writer by the threshold or more (milliseconds)`,
        metric: (period: Duration) => this.metricDatabaseReplicaLag({ period }),
      }] : []),
      {
        key: 'cacheCpu',
        name: 'CacheCpu',
        enabled: on,
        evaluationPeriods: 3,
        comparison: gte,
        threshold: 80,
        description: `Redis engine CPU of ${this.node.path} is at or above the threshold on a node (percent)`,
        metric: (period) => this.metricCacheCpu({ period }),
      },
      {
        key: 'cacheMemory',
        name: 'CacheMemory',
        enabled: on,
        evaluationPeriods: 3,
        comparison: gte,
        threshold: 80,
        description: `Redis memory of ${this.node.path} is at or above the threshold on a node (percent of maxmemory)`,
        metric: (period) => this.metricCacheMemory({ period }),
      },
      {
        key: 'cacheEvictions',
        name: 'CacheEvictions',
        enabled: on,
        evaluationPeriods: 3,
        comparison: gte,
        threshold: 100,
        description: `Redis of ${this.node.path} evicts keys for lack of memory (evictions per period on a node)`,
        metric: (period) => this.metricCacheEvictions({ period }),
      },
    ];
    return createAlarms(this, { owner: OWNER, prop: 'alarms', specs, configs, destination: props.alarmActions });
  }

  /**
   * 80 % of PostgreSQL's default max_connections for the instance class (estimated, erring low);
   * 80 and a warning when the class's memory is unknown and the alarm has no threshold of its own.
   */
  private connectionsThreshold(s: ResolvedSettings, config: AlarmConfig | undefined): number {
    const max = estimatedMaxConnections(s.databaseInstanceType);
    if (max !== undefined) return Math.floor(max * 0.8);
    if (config?.threshold === undefined && (config?.enabled ?? s.alarmsByDefault)) {
      Annotations.of(this).addWarningV2('cdk-durable-agents:dataTierConnectionsThreshold',
        `The databaseConnections alarm defaults to 80 connections because the memory of ${s.databaseInstanceType.toString()} is not known to DataTier ` +
        '(PostgreSQL allows LEAST(DBInstanceClassMemory/9531392, 5000)); give alarms.databaseConnections.threshold (about 80 % of max_connections)');
    }
    return 80;
  }

  /** A security group of one store: no ingress until a peer is admitted, no egress. */
  private createSecurityGroup(id: string, engine: string): ec2.SecurityGroup {
    return new ec2.SecurityGroup(this, id, {
      vpc: this.vpc,
      description: `${engine} of ${this.node.path}: no ingress until a peer is admitted`,
      allowAllOutbound: false,
    });
  }

  /** An Aurora PostgreSQL cluster: the writer and `readers` readers, TLS only. */
  private createAuroraCluster(s: ResolvedSettings, encryptionKey: kms.IKey | undefined): DatabaseParts {
    const version = s.postgresVersion ?? DEFAULT_POSTGRES_VERSION;
    const engine = rds.DatabaseClusterEngine.auroraPostgres({
      version: rds.AuroraPostgresEngineVersion.of(version, majorOf(version)),
    });
    // The writer in the first AZ of the data subnets, readers round the others, so a reader is
    // in another AZ than the writer to take over from it.
    const azs = [...new Set(this.dataSubnets.availabilityZones)];
    const instanceProps = (index: number): rds.ProvisionedClusterInstanceProps => ({
      instanceType: s.databaseInstanceType,
      availabilityZone: azs.length > 1 ? azs[index % azs.length] : undefined,
      publiclyAccessible: false,
      enablePerformanceInsights: s.performanceInsights,
      performanceInsightRetention: s.performanceInsights ? rds.PerformanceInsightRetention.DEFAULT : undefined,
      performanceInsightEncryptionKey: s.performanceInsights ? encryptionKey : undefined,
      autoMinorVersionUpgrade: true,
    });
    const cluster = new rds.DatabaseCluster(this, 'Database', {
      engine,
      writer: rds.ClusterInstance.provisioned('Writer', instanceProps(0)),
      readers: Array.from({ length: s.readers }, (_, i) => rds.ClusterInstance.provisioned(`Reader${i + 1}`, instanceProps(i + 1))),
      vpc: this.vpc,
      vpcSubnets: { subnets: this.dataSubnets.subnets },
      securityGroups: [this.databaseSecurityGroup],
      port: DATABASE_PORT,
      defaultDatabaseName: s.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret(s.databaseUsername, { encryptionKey }),
      parameterGroup: new rds.ParameterGroup(this, 'DatabaseParameters', {
        engine,
        description: `Aurora PostgreSQL of ${this.node.path}: TLS only`,
        parameters: TLS_ONLY_PARAMETERS,
      }),
      storageEncrypted: true,
      storageEncryptionKey: encryptionKey,
      backup: { retention: s.backupRetention },
      deletionProtection: s.deletionProtection,
      removalPolicy: s.removalPolicy,
      cloudwatchLogsExports: logExportsOf(s),
      copyTagsToSnapshot: true,
    });
    return { cluster, endpoint: cluster.clusterEndpoint, secret: cluster.secret! };
  }

  /** An RDS for PostgreSQL instance on gp3, TLS only. */
  private createDatabaseInstance(s: ResolvedSettings, encryptionKey: kms.IKey | undefined): DatabaseParts {
    const version = s.postgresVersion ?? DEFAULT_POSTGRES_VERSION;
    const engine = rds.DatabaseInstanceEngine.postgres({
      version: rds.PostgresEngineVersion.of(version, majorOf(version)),
    });
    const allocated = s.allocatedStorage!.toGibibytes();
    const max = s.maxAllocatedStorage?.toGibibytes();
    const instance = new rds.DatabaseInstance(this, 'Database', {
      engine,
      instanceType: s.databaseInstanceType,
      vpc: this.vpc,
      vpcSubnets: { subnets: this.dataSubnets.subnets },
      securityGroups: [this.databaseSecurityGroup],
      port: DATABASE_PORT,
      databaseName: s.databaseName,
      credentials: rds.Credentials.fromGeneratedSecret(s.databaseUsername, { encryptionKey }),
      parameterGroup: new rds.ParameterGroup(this, 'DatabaseParameters', {
        engine,
        description: `PostgreSQL of ${this.node.path}: TLS only`,
        parameters: TLS_ONLY_PARAMETERS,
      }),
      storageType: rds.StorageType.GP3,
      allocatedStorage: allocated,
      maxAllocatedStorage: max !== undefined && max !== allocated ? max : undefined,
      storageEncrypted: true,
      storageEncryptionKey: encryptionKey,
      multiAz: s.multiAz,
      backupRetention: s.backupRetention,
      deleteAutomatedBackups: !keepsData(s),
      deletionProtection: s.deletionProtection,
      removalPolicy: s.removalPolicy,
      enablePerformanceInsights: s.performanceInsights,
      performanceInsightRetention: s.performanceInsights ? rds.PerformanceInsightRetention.DEFAULT : undefined,
      performanceInsightEncryptionKey: s.performanceInsights ? encryptionKey : undefined,
      cloudwatchLogsExports: logExportsOf(s),
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
    });
    return { instance, endpoint: instance.instanceEndpoint, secret: instance.secret! };
  }

  /**
   * The generated database secret outlives the stack when the data does (a snapshot is of no use
   * without its password). databaseSecret is the secret's attachment to the database; the secret
   * itself is a child of the database.
   */
  private applyGeneratedSecretRemoval(s: ResolvedSettings): void {
    const generated = (this.databaseCluster ?? this.databaseInstance)!.node.tryFindChild('Secret');
    if (generated instanceof secretsmanager.Secret) generated.applyRemovalPolicy(secretRemovalOf(s));
  }

  /** The Redis AUTH token: 64 letters and digits generated by Secrets Manager. */
  private createCacheAuthSecret(s: ResolvedSettings, encryptionKey: kms.IKey | undefined): secretsmanager.Secret {
    return new secretsmanager.Secret(this, 'CacheAuthToken', {
      description: `Redis AUTH token of ${this.node.path}`,
      encryptionKey,
      removalPolicy: secretRemovalOf(s),
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
  }

  /** The Redis replication group in the data subnets: encrypted at rest, TLS only with the AUTH token. */
  private createCache(s: ResolvedSettings, encryptionKey: kms.IKey | undefined): elasticache.CfnReplicationGroup {
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'CacheSubnets', {
      description: `Redis subnets of ${this.node.path}`,
      subnetIds: this.dataSubnets.subnetIds,
    });
    const cache = new elasticache.CfnReplicationGroup(this, 'Cache', {
      replicationGroupDescription: `Redis of ${this.node.path}`.slice(0, 255),
      engine: 'redis',
      engineVersion: s.cacheEngineVersion,
      cacheNodeType: s.cacheNodeType,
      numCacheClusters: 1 + s.cacheReplicas,
      automaticFailoverEnabled: s.cacheAutomaticFailover,
      multiAzEnabled: s.cacheMultiAz,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.cacheSecurityGroup.securityGroupId],
      port: CACHE_PORT,
      atRestEncryptionEnabled: true,
      kmsKeyId: encryptionKey?.keyArn,
      transitEncryptionEnabled: true,
      // TransitEncryptionMode exists from Redis OSS 7 on (before it, in-transit encryption is
      // always TLS only), so it is set only there.
      transitEncryptionMode: redisMajorOf(s.cacheEngineVersion) < 7 ? undefined : 'required',
      authToken: this.cacheAuthSecret.secretValue.unsafeUnwrap(),
      snapshotRetentionLimit: s.cacheSnapshotRetention.toDays(),
      autoMinorVersionUpgrade: true,
    });
    cache.applyRemovalPolicy(s.removalPolicy);
    return cache;
  }

  private validateSubnets(multiAz: boolean, props: DataTierProps): void {
    const publicIds = new Set(this.vpc.publicSubnets.map((subnet) => subnet.subnetId));
    const exposed = this.dataSubnets.subnets.filter((subnet) => publicIds.has(subnet.subnetId));
    if (exposed.length > 0) {
      throw new Error(`${OWNER}: subnets selects ${exposed.length} public subnet(s) (${exposed.map((subnet) => subnet.node.path).join(', ')}), ` +
        'but the database and the cache must not sit in subnets routed to an internet gateway; ' +
        'select isolated or private subnets (e.g. { subnetType: ec2.SubnetType.PRIVATE_ISOLATED })');
    }
    const azs = this.dataSubnets.availabilityZones;
    if (azs.some((az) => Token.isUnresolved(az))) return;
    const distinct = new Set(azs);
    if (this.dataSubnets.subnetIds.length === 0) {
      throw new Error(`${OWNER}: the subnets selection matches no subnet of the VPC; ` +
        'give subnets that exist (e.g. { subnetType: ec2.SubnetType.PRIVATE_ISOLATED })');
    }
    if (distinct.size < 2) {
      const what = multiAz ? 'multiAz (or cacheMultiAz) is true and needs' : 'RDS subnet groups need';
      throw new Error(`${OWNER}: the selected subnets span ${distinct.size} AZ (${[...distinct].join(', ')}), but ${what} ` +
        `at least two AZs; ${props.subnets ? 'select' : 'give a VPC with'} subnets in two AZs`);
    }
  }

  /** The deliberate cdk-nag findings of this configuration, each with its reason. */
  private acknowledge(s: ResolvedSettings, aurora: boolean): void {
    const findings: NagFinding[] = [
      { id: 'AwsSolutions-SMG4', reason: 'Passwords are generated by Secrets Manager and never appear in a template; rotation needs a rotation function in the VPC, which the user adds with databaseInstance/databaseCluster.addRotationSingleUser() when their clients re-read secrets.' },
      { id: 'AwsSolutions-AEC5', reason: 'Redis keeps its standard port 6379 so clients work unchanged; the security group admits only peers that were explicitly connected, and TLS plus an AUTH token are required.' },
    ];
    if (aurora) {
      findings.push({ id: 'AwsSolutions-RDS6', reason: 'Clients authenticate with the generated password from Secrets Manager over TLS (rds.force_ssl); IAM database authentication would need token-generating code in every consumer.' });
    } else {
      findings.push({ id: 'AwsSolutions-RDS11', reason: 'PostgreSQL keeps its standard port 5432 so libpq clients work unchanged; the security group admits only peers that were explicitly connected, which is the control that matters.' });
    }
    if (!s.multiAz) {
      findings.push({ id: 'AwsSolutions-RDS3', reason: 'This configuration (the ephemeral profile\'s default) runs one database instance in one AZ on purpose: it is a throwaway store for tests and previews, rebuilt from scratch; set multiAz or use DataTierProfile.production() for high availability.' });
    }
    if (!s.deletionProtection) {
      findings.push({ id: 'AwsSolutions-RDS10', reason: 'This configuration (the ephemeral profile\'s default) is meant to be destroyed with its stack; deletion protection would make every teardown fail. Set deletionProtection or use DataTierProfile.production() for data that matters.' });
    }
    if (s.backupRetention.toDays() === 0) {
      findings.push({ id: 'AwsSolutions-RDS13', reason: 'This configuration (the ephemeral profile\'s default) keeps no automated backups on purpose: its data is disposable and recreated by the tests or previews that use it. Set backupRetention or use DataTierProfile.production() for data that matters.' });
    }
    if (!s.cacheMultiAz) {
      findings.push({ id: 'AwsSolutions-AEC4', reason: 'This configuration (the ephemeral profile\'s default) runs Redis without Multi-AZ failover on purpose: it is a throwaway cache for tests and previews. Set cacheReplicas, cacheAutomaticFailover and cacheMultiAz or use DataTierProfile.production() for high availability.' });
    }
    acknowledgeFindings(this, findings);
    for (const instance of this.natInstances) {
      acknowledgeFindings(instance, [
        { id: 'AwsSolutions-EC28', reason: 'The NAT instance (nat: DataTierNat.instance(), chosen for a throwaway environment) keeps basic 5-minute monitoring: detailed monitoring would cost about as much as the instance itself, and nothing scales on its metrics.' },
        { id: 'AwsSolutions-EC29', reason: 'The NAT instance (nat: DataTierNat.instance()) is deleted with its stack on purpose and holds no data; termination protection would make every teardown fail. Use DataTierNat.gateways() where egress must survive.' },
      ]);
    }
  }
}

/**
 * Properties of an `EphemeralDataTier`: those of a `DataTier`.
 * @deprecated use DataTierProps
 */
export interface EphemeralDataTierProps extends DataTierProps {}

/**
 * The former name of `DataTier`, which also runs the production profile: the same
 * construct, with the same construct ids and the same template.
 * @deprecated use DataTier
 */
export class EphemeralDataTier extends DataTier {
  constructor(scope: Construct, id: string, props: EphemeralDataTierProps = {}) {
    super(scope, id, props);
  }
}

/** Every setting after profile defaults and props are merged. */
interface ResolvedSettings extends Omit<DataTierProfile, 'name' | 'databaseKind'> {
  readonly maxAzs: number;
  readonly databaseName: string;
  readonly databaseUsername: string;
  readonly postgresVersion?: string;
  readonly cacheEngineVersion: string;
}

function resolveSettings(p: DataTierProfile, props: DataTierProps, throwaway: boolean): ResolvedSettings {
  return {
    // A profile with a NAT gateway per AZ (production) keeps one per AZ over maxAzs AZs: with three
    // AZs and two gateways, one AZ's egress would depend on another AZ.
    nat: props.nat ?? p.nat,
    natGateways: props.natGateways ?? (p.natGateways >= DEFAULT_MAX_AZS && props.maxAzs !== undefined && !Token.isUnresolved(props.maxAzs)
      ? props.maxAzs : p.natGateways),
    maxAzs: props.maxAzs ?? DEFAULT_MAX_AZS,
    alarmsByDefault: p.alarmsByDefault,
    databaseName: props.databaseName ?? 'app',
    databaseUsername: props.databaseUsername ?? 'app_admin',
    postgresVersion: props.postgresVersion,
    databaseInstanceType: props.databaseInstanceType ?? p.databaseInstanceType,
    allocatedStorage: props.allocatedStorage ?? p.allocatedStorage,
    maxAllocatedStorage: props.maxAllocatedStorage ?? p.maxAllocatedStorage,
    readers: props.readers ?? p.readers,
    multiAz: props.multiAz ?? p.multiAz,
    backupRetention: props.backupRetention ?? p.backupRetention,
    deletionProtection: props.deletionProtection ?? p.deletionProtection,
    removalPolicy: props.removalPolicy ?? (throwaway ? RemovalPolicy.DESTROY : p.removalPolicy),
    performanceInsights: props.performanceInsights ?? p.performanceInsights,
    exportDatabaseLogs: props.exportDatabaseLogs ?? p.exportDatabaseLogs,
    cacheNodeType: props.cacheNodeType ?? p.cacheNodeType,
    cacheReplicas: props.cacheReplicas ?? p.cacheReplicas,
    cacheAutomaticFailover: props.cacheAutomaticFailover ?? p.cacheAutomaticFailover,
    cacheMultiAz: props.cacheMultiAz ?? p.cacheMultiAz,
    cacheSnapshotRetention: props.cacheSnapshotRetention ?? p.cacheSnapshotRetention,
    cacheEngineVersion: props.cacheEngineVersion ?? '7.1',
  };
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

function known(v: unknown): boolean {
  return !Token.isUnresolved(v);
}

const OWNER = 'DataTier';

function fail(message: string): never {
  throw new Error(`${OWNER}: ${message}`);
}

/** GiB of a Size, fractional if need be (checkRange then names the prop), or undefined for a token. */
function gibOf(size: Size | undefined): number | undefined {
  return size === undefined || size.isUnresolved() ? undefined : size.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
}

/** Whole days of a Duration that checkDurationRange accepted, or undefined for a token. */
function daysOf(d: Duration): number | undefined {
  return d.isUnresolved() ? undefined : d.toDays();
}

/** 0 to 35 whole days: the retention RDS and ElastiCache take for backups and snapshots. */
const RETENTION_DAYS = { min: Duration.days(0), max: Duration.days(35), whole: 'days' as const };

/** Checks impossible and contradictory combinations; every message names the prop, the value and the fix. */
function validate(p: DataTierProfile, props: DataTierProps, s: ResolvedSettings, aurora: boolean, throwaway: boolean): void {
  // Counts that decide how many resources are made (or, for cacheReplicas, a value CloudFormation
  // would have to add 1 to) cannot be deploy-time tokens: fail rather than silently make none.
  const counts: Array<[string, number | undefined, string]> = [
    ['natGateways', props.natGateways, 'which subnets and how many NAT gateways the VPC gets'],
    ['maxAzs', props.maxAzs, 'how many AZs of subnets the VPC gets'],
    ['readers', props.readers, 'how many Aurora reader instances are created'],
    ['cacheReplicas', props.cacheReplicas, 'NumCacheClusters (1 + cacheReplicas), a sum CloudFormation cannot compute'],
  ];
  for (const [prop, value, decides] of counts) {
    if (value !== undefined && !known(value)) {
      fail(`${prop} must be a number known at synth time, got a token (${Token.asString(value)}): it decides ${decides}; give a literal number`);
    }
  }
  if (props.natGateways !== undefined && props.vpc) {
    fail(`natGateways (${props.natGateways}) applies only to a VPC the construct creates, but vpc was given; leave natGateways out and configure NAT on your VPC`);
  }
  if (props.nat !== undefined && props.vpc) {
    fail(`nat (DataTierNat ${props.nat.kind}) applies only to a VPC the construct creates, but vpc was given; leave nat out and configure NAT on your VPC`);
  }
  if (props.nat?.kind === 'instance' && known(s.natGateways) && s.natGateways === 0) {
    fail('nat is DataTierNat.instance() but natGateways is 0, so there would be no NAT at all; give natGateways: 1 (one NAT instance) or leave nat out');
  }
  const natType = s.nat.instanceType;
  if (natType !== undefined && !Token.isUnresolved(natType.toString()) && !/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(natType.toString())) {
    fail(`nat: DataTierNat.instance({ instanceType: '${natType}' }) is not an EC2 instance type; give one such as ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO)`);
  }
  if (props.maxAzs !== undefined && props.vpc) {
    fail(`maxAzs (${props.maxAzs}) applies only to a VPC the construct creates, but vpc was given; leave maxAzs out and select subnets of your VPC with subnets`);
  }
  checkRange(OWNER, 'maxAzs', s.maxAzs, { min: 2, max: 3, fix: 'RDS needs two AZs, and beyond three more AZs add subnets and NAT gateways but no availability to Aurora or Redis' });
  checkRange(OWNER, 'natGateways', s.natGateways, {
    min: 0,
    max: s.maxAzs,
    fix: `the VPC spans ${s.maxAzs} AZs (maxAzs), and one NAT gateway per AZ is the most that helps` + (s.maxAzs < 3 ? '; give maxAzs: 3 for a third' : ''),
  });
  if (known(s.databaseName) && !NAME.test(s.databaseName)) {
    fail(`databaseName '${s.databaseName}' must start with a letter and hold only letters, digits and _ (at most 63 characters)`);
  }
  if (known(s.databaseUsername) && (!NAME.test(s.databaseUsername) || /^(rds|pg_)/i.test(s.databaseUsername))) {
    fail(`databaseUsername '${s.databaseUsername}' must start with a letter, hold only letters, digits and _ (at most 63 characters), ` +
      'and not start with rds or pg_ (reserved by RDS and PostgreSQL)');
  }
  if (s.postgresVersion !== undefined && known(s.postgresVersion)) {
    if (!/^\d+(\.\d+)?$/.test(s.postgresVersion)) {
      fail(`postgresVersion '${s.postgresVersion}' must be a major version ('16') or a full version ('16.13')`);
    }
  }
  // Database kind specific settings.
  if (aurora) {
    if (props.allocatedStorage || props.maxAllocatedStorage) {
      fail(`allocatedStorage and maxAllocatedStorage apply to an RDS instance, but the ${p.name} profile runs Aurora, whose storage grows by itself; leave them out`);
    }
    checkRange(OWNER, 'readers', s.readers, { min: 0, max: 15, fix: 'Aurora takes up to 15 readers' });
    if (known(s.readers) && s.multiAz && s.readers < 1) {
      fail('multiAz is true but readers is 0: an Aurora cluster survives the loss of an AZ through a reader in another AZ; set readers to 1 or more, or multiAz to false');
    }
  } else {
    if (props.readers !== undefined) {
      fail(`readers (${props.readers}) applies to Aurora, but the ${p.name} profile runs one RDS instance; use DataTierProfile.production() for readers, or multiAz for a standby`);
    }
    const allocated = gibOf(s.allocatedStorage);
    const max = gibOf(s.maxAllocatedStorage);
    const gp3 = { min: 20, max: 65_536, unit: 'GiB', fix: 'gp3 storage takes whole GiB; give Size.gibibytes(n) in that range' };
    checkRange(OWNER, 'allocatedStorage', allocated, gp3);
    checkRange(OWNER, 'maxAllocatedStorage', max, gp3);
    if (allocated !== undefined && max !== undefined && max < allocated) {
      fail(`maxAllocatedStorage (${max} GiB) is below allocatedStorage (${allocated} GiB); raise it, or make it equal to turn storage autoscaling off`);
    }
  }
  checkDurationRange(OWNER, 'backupRetention', s.backupRetention, RETENTION_DAYS);
  const backupDays = daysOf(s.backupRetention);
  if (backupDays !== undefined) {
    if (aurora && backupDays < 1) {
      fail('backupRetention is 0, but Aurora always keeps at least 1 day of backups; give Duration.days(1) to Duration.days(35)');
    }
    if (backupDays > 0 && p.databaseKind === DatabaseKind.INSTANCE && p.name === 'ephemeral' && s.removalPolicy === RemovalPolicy.DESTROY) {
      fail(`backupRetention is ${backupDays} days in the ephemeral profile, whose removalPolicy DESTROY deletes the backups with the stack; ` +
        'say that the data must outlive the stack with removalPolicy RETAIN or SNAPSHOT, or use DataTierProfile.production()');
    }
  }
  if (throwaway && props.removalPolicy === undefined && s.deletionProtection === true) {
    const from = props.deletionProtection === undefined ? `the ${p.name} profile's default` : 'given as a prop';
    fail(`the throwaway switch (${THROWAWAY_CONTEXT_KEY}) is on, so removalPolicy defaults to DESTROY, but deletionProtection is true (${from}): ` +
      'deleting the stack would fail on the protected database. Set deletionProtection: false to throw this tier away with the stack, ' +
      'give removalPolicy RemovalPolicy.SNAPSHOT or RETAIN to keep its data, or create it outside the throwaway scope');
  }
  if (s.deletionProtection === true && s.removalPolicy === RemovalPolicy.DESTROY) {
    fail('deletionProtection is true but removalPolicy is DESTROY: deleting the stack would fail on the protected database; ' +
      'choose one (removalPolicy SNAPSHOT or RETAIN to keep the data, or deletionProtection false to destroy it)');
  }
  // Cache.
  if (known(s.cacheNodeType) && !/^cache\.[a-z0-9-]+\.[a-z0-9]+$/.test(s.cacheNodeType)) {
    fail(`cacheNodeType '${s.cacheNodeType}' is not an ElastiCache node type; give one such as 'cache.t4g.micro' or 'cache.r7g.large'`);
  }
  checkRange(OWNER, 'cacheReplicas', s.cacheReplicas, { min: 0, max: 5, fix: 'a Redis replication group takes up to 5 replicas' });
  if (known(s.cacheReplicas) && s.cacheAutomaticFailover && s.cacheReplicas < 1) {
    fail('cacheAutomaticFailover is true but cacheReplicas is 0: there is no replica to promote; set cacheReplicas to 1 or more, or cacheAutomaticFailover to false');
  }
  if (s.cacheMultiAz && !s.cacheAutomaticFailover) {
    fail('cacheMultiAz is true but cacheAutomaticFailover is false: ElastiCache Multi-AZ needs automatic failover; enable it (with a replica) or set cacheMultiAz to false');
  }
  checkDurationRange(OWNER, 'cacheSnapshotRetention', s.cacheSnapshotRetention, RETENTION_DAYS);
  if (known(s.cacheEngineVersion) && !/^\d+(\.\d+)*$/.test(s.cacheEngineVersion)) {
    fail(`cacheEngineVersion '${s.cacheEngineVersion}' must be a version number such as '7.1'`);
  }
  if (known(s.cacheEngineVersion) && Number(s.cacheEngineVersion.split('.')[0]) < 6) {
    fail(`cacheEngineVersion '${s.cacheEngineVersion}' is too old: the data tier runs Redis OSS 6 or later (TLS with an AUTH token); give '7.1' (recommended)`);
  }
}

/** The database of either kind, and what every consumer needs of it. */
interface DatabaseParts {
  readonly instance?: rds.DatabaseInstance;
  readonly cluster?: rds.DatabaseCluster;
  readonly endpoint: rds.Endpoint;
  readonly secret: secretsmanager.ISecret;
}

/** Both kinds accept TLS connections only. */
const TLS_ONLY_PARAMETERS = { 'rds.force_ssl': '1' };

/** Whether the data outlives the stack (removalPolicy RETAIN or SNAPSHOT). */
function keepsData(s: ResolvedSettings): boolean {
  return s.removalPolicy !== RemovalPolicy.DESTROY;
}

/** The secrets are retained whenever the data is: a snapshot is of no use without its password. */
function secretRemovalOf(s: ResolvedSettings): RemovalPolicy {
  return keepsData(s) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

function logExportsOf(s: ResolvedSettings): string[] | undefined {
  return s.exportDatabaseLogs ? ['postgresql'] : undefined;
}

/** A store's connections: its security group and its port. */
function connectionsOf(securityGroup: ec2.ISecurityGroup, port: number): ec2.Connections {
  return new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(port) });
}

/** With a new VPC its `data` subnets; with a given one isolated subnets, else private with egress. */
function defaultSubnets(vpc: ec2.IVpc, created: boolean): ec2.SubnetSelection {
  if (created) return { subnetGroupName: 'data' };
  return vpc.isolatedSubnets.length > 0
    ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }
    : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
}

/** The major version of a Redis engine version, or Infinity for a token (assumed current). */
function redisMajorOf(version: string): number {
  return Token.isUnresolved(version) ? Infinity : Number(version.split('.')[0]);
}

/** '16' of '16' or '16.13'. */
function majorOf(version: string): string {
  return Token.isUnresolved(version) ? version : version.split('.')[0];
}

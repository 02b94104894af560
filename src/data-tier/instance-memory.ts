/**
 * What the data tier's default alarm thresholds need to know of an RDS instance class: its
 * memory, and from it PostgreSQL's default `max_connections`. Not public.
 */
import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Memory of burstable (T) classes by size, in GiB. */
const BURSTABLE_GIB: Record<string, number> = { 'nano': 0.5, 'micro': 1, 'small': 2, 'medium': 4, 'large': 8, 'xlarge': 16, '2xlarge': 32 };

/** GiB per vCPU of the memory optimized and general purpose classes RDS offers for PostgreSQL. */
const GIB_PER_VCPU: Array<[RegExp, number]> = [
  [/^x2i/, 32], // x2iedn, x2iezn
  [/^x2g/, 16],
  [/^(r|z1d)/, 8], // r5, r5b, r6g, r6i, r6gd, r7g, r7i, r8g, z1d
  [/^m/, 4], // m5, m6g, m6i, m6gd, m7g, m7i, m8g
];

/** vCPUs of a size: large 2, xlarge 4, Nxlarge 4N; undefined for others (metal). */
function vcpusOf(size: string): number | undefined {
  if (size === 'large') return 2;
  const match = /^(\d*)xlarge$/.exec(size);
  if (!match) return undefined;
  return 4 * (match[1] ? Number(match[1]) : 1);
}

/**
 * The nominal memory of an RDS instance class in bytes (`db.r7g.large`: 16 GiB), or undefined
 * when the class is a token or not one of the families above.
 */
export function instanceMemoryBytes(instanceType: ec2.InstanceType): number | undefined {
  const name = instanceType.toString();
  if (Token.isUnresolved(name)) return undefined;
  const [family, size] = name.replace(/^db\./, '').split('.');
  if (!family || !size) return undefined;
  if (/^t\d/.test(family)) {
    const gib = BURSTABLE_GIB[size];
    return gib === undefined ? undefined : gib * GIB;
  }
  const perVcpu = GIB_PER_VCPU.find(([pattern]) => pattern.test(family))?.[1];
  const vcpus = vcpusOf(size);
  return perVcpu === undefined || vcpus === undefined ? undefined : perVcpu * vcpus * GIB;
}

/**
 * PostgreSQL's default `max_connections` on RDS and Aurora is LEAST(DBInstanceClassMemory/9531392,
 * 5000), where DBInstanceClassMemory is the class's memory less what RDS reserves for itself. The
 * reserve is not published; taking it as the larger of 300 MiB and 10 % of the memory errs low
 * (db.t4g.micro: 79, db.t4g.medium: 405, db.r7g.large: 1622), so an alarm at a share of it fires
 * early rather than late.
 */
export function estimatedMaxConnections(instanceType: ec2.InstanceType): number | undefined {
  const memory = instanceMemoryBytes(instanceType);
  if (memory === undefined) return undefined;
  const reserved = Math.max(300 * MIB, memory * 0.1);
  return Math.min(Math.floor((memory - reserved) / 9_531_392), 5000);
}

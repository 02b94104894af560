import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CloudFormationClient, CreateStackCommand, DescribeStackEventsCommand, DescribeStackResourcesCommand, DescribeStacksCommand, StackResource,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SSMClient, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { MotoServer } from './moto';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** What a smoke deployment produced. */
export interface MotoDeployment {
  /** Resources left out because moto's CloudFormation does not implement their type. */
  readonly skipped: Record<string, string[]>;
  readonly status: string;
  readonly reason?: string;
  /** Failed resources with moto's reasons, when the deployment failed. */
  readonly failures: string[];
  readonly resources: StackResource[];
}

/** One line naming what a smoke deployment created and what moto could not (for the test output). */
export function deploymentSummary(stackName: string, deployment: MotoDeployment): string {
  const skipped = Object.entries(deployment.skipped).map(([t, ids]) => `${t} x${ids.length}`).join(', ') || 'none';
  return `moto smoke deploy (${stackName}): ${deployment.resources.length} resources created; skipped ${skipped}\n`;
}

/**
 * Deploys a synthesized stack (a cloud assembly folder) to moto_server the way the CDK CLI
 * would: publishes its file assets to the bootstrap bucket, sets the bootstrap version
 * parameter, and creates the stack from a template URL on `localhost`.
 */
export async function deployToMoto(moto: MotoServer, assemblyDir: string, stackName: string, timeoutMs = 120_000): Promise<MotoDeployment> {
  const config = { endpoint: moto.endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  const cfn = new CloudFormationClient(config);
  const ssm = new SSMClient(config);
  const sub = (s: string) => s.replace(/\$\{AWS::AccountId\}/g, ACCOUNT).replace(/\$\{AWS::Region\}/g, REGION).replace(/\$\{AWS::Partition\}/g, 'aws');

  await ssm.send(new PutParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version', Value: '30', Type: 'String', Overwrite: true }));
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, `${stackName}.assets.json`), 'utf-8'));
  const buckets = new Set<string>();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'moto-assets-'));
  try {
    for (const [hash, asset] of Object.entries<any>(manifest.files ?? {})) {
      const source = path.join(assemblyDir, asset.source.path);
      let body: Buffer;
      if (asset.source.packaging === 'zip') {
        const zip = path.join(work, `${hash}.zip`);
        zipDirectory(source, zip);
        body = fs.readFileSync(zip);
      } else {
        body = fs.readFileSync(source);
      }
      for (const dest of Object.values<any>(asset.destinations)) {
        const bucket = sub(dest.bucketName);
        if (!buckets.has(bucket)) {
          await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((e) => {
            if (e.name !== 'BucketAlreadyOwnedByYou') throw e;
          });
          buckets.add(bucket);
        }
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: sub(dest.objectKey), Body: body }));
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const templateKey = `templates/${stackName}.json`;
  const templateBucket = [...buckets][0] ?? `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`;
  if (!buckets.has(templateBucket)) await s3.send(new CreateBucketCommand({ Bucket: templateBucket }));
  const original = JSON.parse(fs.readFileSync(path.join(assemblyDir, `${stackName}.template.json`), 'utf-8'));
  const { template, skipped } = withoutUnsupported(inDependencyOrder(namedForMoto(original, stackName)), motoCloudFormationTypes());
  await s3.send(new PutObjectCommand({ Bucket: templateBucket, Key: templateKey, Body: JSON.stringify(template) }));

  await cfn.send(new CreateStackCommand({
    StackName: stackName,
    TemplateURL: `${moto.endpoint}/${templateBucket}/${templateKey}`,
    Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
  }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
    const status = stack?.StackStatus ?? 'UNKNOWN';
    if (!status.endsWith('_IN_PROGRESS') || Date.now() > deadline) {
      const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: stackName }))).StackEvents ?? [];
      const failures = events.filter((e) => e.ResourceStatus?.endsWith('_FAILED'))
        .map((e) => `${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason}`);
      const resources = (await cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }))).StackResources ?? [];
      return { status, reason: stack?.StackStatusReason, failures, resources, skipped };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * moto's CloudFormation generates names CloudFormation would not: an unnamed ECR repository gets
 * its logical id (upper case, which ECR refuses), an unnamed state machine a name over Step
 * Functions' 80 characters. Give those the kind of name CloudFormation generates: the stack and
 * logical id, lower case for a repository, cut to 80 characters for a state machine.
 *
 * moto also needs ports on an all-protocols ingress rule and a size on an instance's EBS mapping (below).
 *
 * And moto's `Ref` of an `AWS::RDS::DBParameterGroup` is the group object rather than its name,
 * on which its `AWS::RDS::DBInstance` fails (an AttributeError, answered as a 500 that the SDK
 * retries into "stack already exists"): the instance is created with RDS's default parameter
 * group there. The group itself is still created, and its parameters are the template's concern.
 */
function namedForMoto(template: any, stackName: string): any {
  const copy = JSON.parse(JSON.stringify(template));
  for (const [id, resource] of Object.entries<any>(copy.Resources ?? {})) {
    if (resource.Type === 'AWS::ECR::Repository' && !resource.Properties?.RepositoryName) {
      resource.Properties = { ...resource.Properties, RepositoryName: `${stackName}-${id}`.toLowerCase() };
    }
    if (resource.Type === 'AWS::StepFunctions::StateMachine' && !resource.Properties?.StateMachineName) {
      resource.Properties = { ...resource.Properties, StateMachineName: `${stackName}-${id}`.slice(-80) };
    }
    if (resource.Type === 'AWS::RDS::DBInstance' && resource.Properties?.DBParameterGroupName?.Ref !== undefined) {
      delete resource.Properties.DBParameterGroupName;
    }
    // moto reads FromPort of every inline ingress rule; CloudFormation takes an all-protocols rule
    // (IpProtocol -1, a NAT instance's "from the VPC") without ports, and -1 for both means the same.
    // moto needs a size for an EBS mapping; CloudFormation takes the image's (8 GiB for Amazon Linux 2023).
    if (resource.Type === 'AWS::EC2::Instance') {
      for (const mapping of resource.Properties?.BlockDeviceMappings ?? []) {
        if (mapping.Ebs && mapping.Ebs.VolumeSize === undefined && mapping.Ebs.SnapshotId === undefined) mapping.Ebs.VolumeSize = 8;
      }
    }
    if (resource.Type === 'AWS::EC2::SecurityGroup') {
      for (const rule of resource.Properties?.SecurityGroupIngress ?? []) {
        if (String(rule.IpProtocol) === '-1' && rule.FromPort === undefined) Object.assign(rule, { FromPort: -1, ToPort: -1 });
      }
    }
  }
  return copy;
}

/**
 * The template with its resources in an order where each comes after those it refers to (Ref,
 * Fn::GetAtt, Fn::Sub, DependsOn). moto's CloudFormation creates resources in template order and
 * creates one a `Ref` names on demand, but its `Fn::GetAtt` only finds resources already created
 * (CloudFormation itself orders by dependency): a NAT instance listed before its security group,
 * as the CDK writes them, is otherwise "undefined".
 */
export function inDependencyOrder(template: any): any {
  const resources: Record<string, any> = template.Resources ?? {};
  const refs = (node: unknown, out: Set<string>): Set<string> => {
    if (Array.isArray(node)) {
      for (const item of node) refs(item, out);
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Ref' && typeof value === 'string') {
          out.add(value);
        } else if (key === 'Fn::GetAtt') {
          out.add(Array.isArray(value) ? String(value[0]) : String(value).split('.')[0]);
        } else if (key === 'Fn::Sub') {
          const text = Array.isArray(value) ? value[0] : value;
          for (const m of String(text).matchAll(/\$\{([^}.!]+)[^}]*\}/g)) out.add(m[1]);
          if (Array.isArray(value)) refs(value[1], out);
        } else {
          refs(value, out);
        }
      }
    }
    return out;
  };
  const ordered: Record<string, any> = {};
  const visiting = new Set<string>();
  const visit = (id: string) => {
    if (id in ordered || visiting.has(id) || !(id in resources)) return;
    visiting.add(id);
    const deps = refs(resources[id].Properties, new Set<string>());
    for (const d of [resources[id].DependsOn ?? []].flat()) deps.add(String(d));
    for (const dep of deps) visit(dep);
    visiting.delete(id);
    ordered[id] = resources[id];
  };
  for (const id of Object.keys(resources)) visit(id);
  return { ...template, Resources: ordered };
}

/** Zips a directory's contents (as the CDK CLI does for a zip asset), with Python's zipfile. */
function zipDirectory(dir: string, out: string): void {
  execFileSync('python3', ['-c', [
    'import os, sys, zipfile',
    'src, out = sys.argv[1], sys.argv[2]',
    'with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:',
    '    for root, _, files in os.walk(src):',
    '        for f in sorted(files):',
    '            full = os.path.join(root, f)',
    '            z.write(full, os.path.relpath(full, src))',
  ].join('\n'), dir, out]);
}

let supportedTypes: Set<string> | undefined;

/** The resource types moto's CloudFormation implements, asked of the installed moto. */
export function motoCloudFormationTypes(): Set<string> {
  if (!supportedTypes) {
    const out = execFileSync('python3', ['-c', [
      'import importlib, pkgutil, moto',
      'from moto.core.common_models import CloudFormationModel',
      'for m in pkgutil.walk_packages(moto.__path__, "moto."):',
      '    if m.name.endswith(".models") or ".models." in m.name:',
      '        try: importlib.import_module(m.name)',
      '        except Exception: pass',
      'def subs(c):',
      '    for s in c.__subclasses__():',
      '        yield s',
      '        yield from subs(s)',
      'print("\\n".join(sorted({s.cloudformation_type() for s in subs(CloudFormationModel) if s.cloudformation_type()})))',
    ].join('\n')], { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'ignore'] });
    supportedTypes = new Set(out.split('\n').filter(Boolean));
  }
  return supportedTypes;
}

/**
 * The template minus the resources moto cannot create (grouped by type in `skipped`); a Ref or
 * GetAtt to one of them becomes an ARN-shaped placeholder (`arn:aws:moto-skipped:...:<id>`, so
 * that IAM policies naming it still parse) and DependsOn on them is dropped.
 */
export function withoutUnsupported(template: any, supported: Set<string>): { template: any; skipped: Record<string, string[]> } {
  const skipped: Record<string, string[]> = {};
  const removed = new Set<string>();
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    if (!supported.has(r.Type)) {
      (skipped[r.Type] ??= []).push(id);
      removed.add(id);
    }
  }
  const replace = (node: any): any => {
    if (Array.isArray(node)) return node.map(replace);
    if (node && typeof node === 'object') {
      if (typeof node.Ref === 'string' && removed.has(node.Ref)) return skippedArn(node.Ref);
      const getAtt = node['Fn::GetAtt'];
      if (Array.isArray(getAtt) && removed.has(getAtt[0])) return skippedArn(getAtt[0]);
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replace(v)]));
    }
    return node;
  };
  const resources: Record<string, any> = {};
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    if (removed.has(id)) continue;
    const copy = replace(r);
    // moto parses an archive's EventPattern only as a JSON string (CloudFormation takes both).
    if (copy.Type === 'AWS::Events::Archive' && copy.Properties?.EventPattern && typeof copy.Properties.EventPattern === 'object') {
      copy.Properties.EventPattern = JSON.stringify(copy.Properties.EventPattern);
    }
    if (copy.DependsOn) {
      copy.DependsOn = [copy.DependsOn].flat().filter((d: string) => !removed.has(d));
      if (copy.DependsOn.length === 0) delete copy.DependsOn;
    }
    resources[id] = copy;
  }
  return { template: { ...replace({ ...template, Resources: {} }), Resources: resources }, skipped };
}

function skippedArn(id: string): string {
  return `arn:aws:moto-skipped:${REGION}:${ACCOUNT}:${id}`;
}

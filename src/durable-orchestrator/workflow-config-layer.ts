import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { CONFIG_LAYER, WorkflowConfigDocument } from '../contract/table';

/** Properties of a `WorkflowConfigLayer`. */
export interface WorkflowConfigLayerProps {
  /** The validated definition document (JSON). */
  readonly definitionJson: string;
  /** The agents the definition may dispatch to. */
  readonly agentNames: string[];
  readonly description: string;
}

/**
 * The orchestrator's configuration file (definition and agent names) as a Lambda layer, at
 * `/opt/cdk-durable-agents/workflow-config.json` in its functions. A layer version is immutable
 * and a function version keeps the layer versions it was published with, so a durable execution
 * replays on the definition it started with. The file is written at synth into a folder named by
 * its SHA-256 (the same definition, the same folder and asset), outside the app's source tree.
 */
export class WorkflowConfigLayer extends Construct {
  public readonly layer: lambda.LayerVersion;
  /** SHA-256 (hex) of the file: the function's environment carries it, and the handlers check it. */
  public readonly sha256: string;
  /**
   * Where the file is in the cloud assembly (`asset.<hash>/cdk-durable-agents/workflow-config.json`,
   * relative to it), for the local server's `--app cdk.out`: the template never carries the definition.
   */
  public readonly assemblyFile: string;

  constructor(scope: Construct, id: string, props: WorkflowConfigLayerProps) {
    super(scope, id);
    const doc: WorkflowConfigDocument = {
      configVersion: 1,
      definition: JSON.parse(props.definitionJson),
      agentNames: [...props.agentNames].sort(),
    };
    const text = JSON.stringify(doc);
    this.sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
    const dir = path.join(os.tmpdir(), 'cdk-durable-agents-config', this.sha256);
    const file = path.join(dir, CONFIG_LAYER.directory, CONFIG_LAYER.file);
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      // Written beside and renamed, so that a concurrent synth never reads half a file.
      const partial = path.join(os.tmpdir(), 'cdk-durable-agents-config', `${this.sha256}.${process.pid}.tmp`);
      fs.writeFileSync(partial, text);
      fs.renameSync(partial, file);
    }
    const asset = new s3assets.Asset(this, 'Asset', { path: dir });
    this.assemblyFile = path.posix.join(asset.assetPath.split(path.sep).join('/'), CONFIG_LAYER.directory, CONFIG_LAYER.file);
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromBucket(asset.bucket, asset.s3ObjectKey),
      description: props.description.slice(0, 256),
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
    });
  }
}

/**
 * A workflow configuration file as the DurableOrchestrator's layer holds it, written to a temp
 * folder, and the environment that points a handler at it.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { WorkflowDefinitionDocument } from '../../src/contract/definition';
import { ENV, WorkflowConfigDocument } from '../../src/contract/table';

export interface WrittenConfig {
  readonly file: string;
  readonly text: string;
  readonly sha256: string;
  /** `WORKFLOW_CONFIG_FILE` and `WORKFLOW_CONFIG_SHA256` for this file. */
  readonly env: Record<string, string>;
}

export function configText(definition: WorkflowDefinitionDocument, agentNames: string[]): string {
  const doc: WorkflowConfigDocument = { configVersion: 1, definition, agentNames: [...agentNames].sort() };
  return JSON.stringify(doc);
}

export function writeConfig(definition: WorkflowDefinitionDocument, agentNames: string[], text = configText(definition, agentNames)): WrittenConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'workflow-config-'));
  const file = path.join(dir, 'workflow-config.json');
  fs.writeFileSync(file, text);
  const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
  return { file, text, sha256, env: { [ENV.configFile]: file, [ENV.configSha256]: sha256 } };
}

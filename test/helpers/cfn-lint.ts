import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { findOnPath } from './tools';

/** One cfn-lint finding. */
export interface CfnLintFinding {
  readonly rule: string;
  readonly level: string;
  readonly message: string;
  readonly path: string;
}

/**
 * Rules every CDK template trips over by construction, not by a choice of ours:
 * W3005 (CDK adds an explicit DependsOn on a role's default policy next to a GetAtt).
 */
const CDK_GENERATED = ['W3005'];

/**
 * Runs cfn-lint over a synthesized template and returns its findings (errors and warnings;
 * informational findings are dropped). Throws if cfn-lint is missing or cannot run.
 *
 * @param template the template object (e.g. `Template.fromStack(stack).toJSON()`)
 * @param ignoreRules rule ids to leave out, each a deliberate choice the caller names
 */
export function cfnLint(template: unknown, ignoreRules: string[] = []): CfnLintFinding[] {
  const bin = findOnPath('cfn-lint');
  if (!bin) {
    throw new Error('cfn-lint is not installed on PATH (pip install cfn-lint)');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-'));
  const file = path.join(dir, 'template.json');
  try {
    fs.writeFileSync(file, JSON.stringify(template));
    const args = ['--format', 'json', '--regions', 'us-east-1'];
    args.push('--ignore-checks', ...CDK_GENERATED, ...ignoreRules);
    args.push('--', file);
    const res = spawnSync(bin, args, { encoding: 'utf-8', timeout: 120_000 });
    if (res.error) throw res.error;
    // Exit codes are a bit mask of error (2), warning (4) and informational (8) findings;
    // 1 means cfn-lint itself failed.
    if (res.status === 1 || res.status === null) {
      throw new Error(`cfn-lint failed (exit ${res.status}): ${res.stderr || res.stdout}`);
    }
    const raw = JSON.parse(res.stdout || '[]') as Array<{ Rule: { Id: string }; Level: string; Message: string; Location?: { Path?: unknown[] } }>;
    return raw
      .filter((f) => f.Level !== 'Informational')
      .map((f) => ({
        rule: f.Rule.Id,
        level: f.Level,
        message: f.Message,
        path: (f.Location?.Path ?? []).join('/'),
      }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

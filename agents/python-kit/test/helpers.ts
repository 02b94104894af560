/**
 * Running the Python kit's processes from jest (a helper, not a test): `python3 -B`, no bytecode
 * written into the tree, the envelope in TASK_ENVELOPE.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { findOnPath } from '../../../test/helpers/tools';

/** agents/python-kit */
export const KIT_ROOT = path.join(__dirname, '..');

/** The Python reference agents written with the kit. */
export const PYTHON_AGENTS = ['researcher', 'analyst', 'writer'] as const;

/** The file of a Python reference agent. */
export function pythonAgent(name: string): string {
  return path.join(KIT_ROOT, 'examples', `${name}.py`);
}

/** The python3 on PATH (tests that use it are behind `testIfInstalled('python3', ...)`). */
export function python3(): string {
  const found = findOnPath('python3');
  if (!found) throw new Error('python3 is not on PATH');
  return found;
}

/** The environment of a Python agent: this one, less model, AWS and task settings, plus `env`. */
export function agentEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AGENT_|AWS_|OPENAI_|BEDROCK_|TASK_ENVELOPE$)/.test(k)));
  return { ...base, PYTHONDONTWRITEBYTECODE: '1', ...env };
}

/** Runs `python3 -B <file>` (without blocking the event loop: the callback route is in this process). */
export function runPython(file: string, env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python3(), ['-B', file], { env: agentEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/**
 * No Docker engine runs here, so the kit's Dockerfile is checked as text: a pinned slim Python
 * base image, the pinned aws extra, a non-root user, an exec-form entry point, and sources that
 * exist and that the ignore file lets through (and tests that it keeps out).
 */
import * as fs from 'fs';
import * as path from 'path';
import { KIT_ROOT, PYTHON_AGENTS } from './helpers';

const lines = fs.readFileSync(path.join(KIT_ROOT, 'Dockerfile'), 'utf-8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const op = (name: string) => lines.filter((l) => l.split(/\s+/)[0] === name).map((l) => l.slice(name.length).trim());

/** Whether the ignore file sends a path to the builder (the last matching pattern decides; `*` matches within a segment). */
function sent(file: string): boolean {
  let result = true;
  for (const raw of fs.readFileSync(path.join(KIT_ROOT, '.dockerignore'), 'utf-8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const pattern = line.replace(/^!/, '');
    const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}(/.*)?$`);
    if (regex.test(file)) result = line.startsWith('!');
  }
  return result;
}

test('pins a slim Python release and the aws extra, runs as a non-root user, with an exec-form entry point', () => {
  expect(op('FROM')).toEqual([expect.stringMatching(/^public\.ecr\.aws\/docker\/library\/python:3\.\d+\.\d+-slim-\w+$/)]);
  expect(op('USER').at(-1)).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  expect(lines.at(-1)).toBe('ENTRYPOINT ["python3", "/app/agent.py"]');
  const requirements = fs.readFileSync(path.join(KIT_ROOT, 'requirements-image.txt'), 'utf-8').split('\n').filter((l) => l && !l.startsWith('#'));
  for (const r of requirements) expect(r).toMatch(/^[A-Za-z0-9._-]+==[\w.]+$/);
  expect(requirements.map((r) => r.split('==')[0])).toEqual(expect.arrayContaining(['boto3', 'botocore']));
  // The same versions CI tests the kit with.
  const ci = fs.readFileSync(path.join(KIT_ROOT, '..', '..', '.ci', 'requirements-ci.txt'), 'utf-8').split('\n');
  for (const r of requirements) expect(ci).toContain(r);
});

test('copies the kit and the agent named by ARG AGENT; each example exists and is sent, the tests are not', () => {
  expect(op('ARG')).toEqual(['AGENT=researcher']);
  expect(op('COPY')).toEqual([
    'requirements-image.txt /tmp/requirements-image.txt',
    'src/cdk_durable_agents_kit /app/cdk_durable_agents_kit',
    'examples/${AGENT}.py /app/agent.py',
  ]);
  for (const agent of PYTHON_AGENTS) {
    expect(fs.existsSync(path.join(KIT_ROOT, 'examples', `${agent}.py`))).toBe(true);
    expect(sent(`examples/${agent}.py`)).toBe(true);
  }
  for (const file of fs.readdirSync(path.join(KIT_ROOT, 'src', 'cdk_durable_agents_kit')).filter((f) => f !== '__pycache__')) {
    expect([file, sent(`src/cdk_durable_agents_kit/${file}`)]).toEqual([file, true]);
  }
  expect(sent('requirements-image.txt')).toBe(true);
  for (const file of ['test/test_agent.py', 'test/support.py', 'README.md', 'src/cdk_durable_agents_kit/__pycache__/agent.cpython-311.pyc']) {
    expect([file, sent(file)]).toEqual([file, false]);
  }
});

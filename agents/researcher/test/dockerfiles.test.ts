/**
 * No Docker engine runs here, so the agents' Dockerfiles are checked as text: pinned base
 * images, a non-root user, an exec-form entry point, multi-arch bundling on the build platform,
 * and sources that exist and that the ignore files let through.
 */
import * as fs from 'fs';
import * as path from 'path';

const AGENTS_DIR = path.join(__dirname, '..', '..');
const ROOT = path.join(AGENTS_DIR, '..');
const NODE_AGENTS = ['researcher', 'analyst', 'writer'];

interface Instruction { readonly op: string; readonly args: string }

function instructions(file: string): Instruction[] {
  const text = fs.readFileSync(file, 'utf-8').replace(/\\\n/g, ' ');
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ op: l.split(/\s+/)[0].toUpperCase(), args: l.slice(l.split(/\s+/)[0].length).trim() }));
}

/** The image each FROM names, with ARG defaults substituted. */
function images(ins: Instruction[]): string[] {
  const args: Record<string, string> = {};
  for (const i of ins) if (i.op === 'ARG' && i.args.includes('=')) args[i.args.split('=')[0]] = i.args.split('=').slice(1).join('=');
  return ins.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--'))[0]
    .replace(/\$\{?(\w+)\}?/g, (_m, name: string) => args[name] ?? `$${name}`));
}

/** Whether a path is sent to the builder under a .dockerignore of `*` plus `!` exceptions. */
function letThrough(ignoreFile: string, file: string): boolean {
  const lines = fs.readFileSync(ignoreFile, 'utf-8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(lines[0]).toBe('*');
  return lines.slice(1).some((l) => {
    const pattern = l.replace(/^!/, '');
    return pattern.endsWith('/**') ? file.startsWith(pattern.slice(0, -2)) : file === pattern;
  });
}

describe.each(NODE_AGENTS)('the %s Dockerfile', (agent) => {
  const dockerfile = path.join(AGENTS_DIR, agent, 'Dockerfile');
  const ins = instructions(dockerfile);

  test('pins its base image to an exact Node 22 Alpine release from the public ECR mirror', () => {
    for (const image of images(ins)) expect(image).toMatch(/^public\.ecr\.aws\/docker\/library\/node:22\.\d+\.\d+-alpine3\.\d+$/);
  });

  test('bundles on the build platform and runs the bundle as the non-root user node', () => {
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms).toHaveLength(2);
    expect(froms[0].args).toMatch(/^--platform=\$BUILDPLATFORM \S+ AS build$/);
    expect(froms[1].args).not.toContain('--platform');
    const runtime = ins.slice(ins.indexOf(froms[1]));
    expect(runtime.filter((i) => i.op === 'COPY')).toEqual([{ op: 'COPY', args: '--from=build /out/ /app/' }]);
    expect(runtime.filter((i) => i.op === 'USER').at(-1)?.args).toBe('node');
    expect(runtime.at(-1)).toEqual({ op: 'ENTRYPOINT', args: '["node", "/app/index.js"]' });
    expect(ins.find((i) => i.op === 'RUN' && i.args.includes('esbuild'))?.args).toContain(`agents/${agent}/src/main.ts --bundle --platform=node --target=node22 --format=cjs`);
  });

  test('copies sources that exist and that its ignore files let through (both the same)', () => {
    const ignore = path.join(AGENTS_DIR, agent, 'Dockerfile.dockerignore');
    expect(fs.readFileSync(path.join(AGENTS_DIR, agent, '.dockerignore'), 'utf-8')).toBe(fs.readFileSync(ignore, 'utf-8'));
    const sources = ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(['package.json', 'package-lock.json', 'agents/kit/src', `agents/${agent}/src`]);
    for (const source of sources) {
      expect(fs.existsSync(path.join(ROOT, source))).toBe(true);
      const full = path.join(ROOT, source);
      const probe = fs.statSync(full).isDirectory() ? `${source}/${fs.readdirSync(full)[0]}` : source;
      expect({ probe, sent: letThrough(ignore, probe) }).toEqual({ probe, sent: true });
    }
    expect(letThrough(ignore, 'node_modules/esbuild/package.json')).toBe(false);
    expect(letThrough(ignore, 'src/index.ts')).toBe(false);
  });
});

describe('the python-minimal Dockerfile', () => {
  const ins = instructions(path.join(AGENTS_DIR, 'python-minimal', 'Dockerfile'));

  test('pins a slim Python release, runs as a non-root user, and copies only the agent', () => {
    expect(images(ins)).toEqual([expect.stringMatching(/^public\.ecr\.aws\/docker\/library\/python:3\.\d+\.\d+-slim-\w+$/)]);
    expect(ins.filter((i) => i.op === 'USER').at(-1)?.args).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(ins.filter((i) => i.op === 'COPY')).toEqual([{ op: 'COPY', args: 'agent.py /app/agent.py' }]);
    expect(ins.at(-1)).toEqual({ op: 'ENTRYPOINT', args: '["python3", "/app/agent.py"]' });
    expect(letThrough(path.join(AGENTS_DIR, 'python-minimal', '.dockerignore'), 'agent.py')).toBe(true);
    expect(letThrough(path.join(AGENTS_DIR, 'python-minimal', '.dockerignore'), 'test_agent.py')).toBe(false);
  });
});

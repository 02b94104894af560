/**
 * No Docker engine runs here, so the agents' Dockerfiles are checked as text: one Dockerfile for
 * the TypeScript agents, named by the build argument AGENT; pinned base images, a non-root user,
 * an exec-form entry point, multi-arch bundling on the build platform, the bundle flags of
 * `npx projen bundle`, and, for each agent, sources that exist and that the ignore file lets through.
 */
import * as fs from 'fs';
import * as path from 'path';

const AGENTS_DIR = path.join(__dirname, '..', '..');
const ROOT = path.join(AGENTS_DIR, '..');
const DOCKERFILE = path.join(AGENTS_DIR, 'Dockerfile');
const IGNORE_FILE = path.join(AGENTS_DIR, 'Dockerfile.dockerignore');
/** Every TypeScript agent: a folder of agents/ with src/main.ts. */
const NODE_AGENTS = fs.readdirSync(AGENTS_DIR).filter((name) => fs.existsSync(path.join(AGENTS_DIR, name, 'src', 'main.ts')));

interface Instruction { readonly op: string; readonly args: string }

function instructions(file: string): Instruction[] {
  const text = fs.readFileSync(file, 'utf-8').replace(/\\\n/g, ' ');
  return text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ op: l.split(/\s+/)[0].toUpperCase(), args: l.slice(l.split(/\s+/)[0].length).trim() }));
}

/** Instructions with `$NAME` and `${NAME}` replaced as Docker does: global ARGs in FROM lines, each stage's ARGs after their ARG line. */
function expand(ins: Instruction[], buildArgs: Record<string, string> = {}): Instruction[] {
  const globals: Record<string, string> = {};
  let scope: Record<string, string> | undefined;
  const sub = (text: string, vars: Record<string, string>) => text.replace(/\$\{?(\w+)\}?/g, (m, name: string) => vars[name] ?? m);
  return ins.map((i) => {
    if (i.op === 'ARG') {
      const [name, ...rest] = i.args.split('=');
      const value = buildArgs[name] ?? (rest.length ? rest.join('=') : (scope ? globals[name] : undefined));
      if (value !== undefined) (scope ?? globals)[name] = value;
      return i;
    }
    if (i.op === 'FROM') {
      scope = {};
      return { op: i.op, args: sub(i.args, globals) };
    }
    return { op: i.op, args: sub(i.args, scope ?? {}) };
  });
}

/** The image each FROM names. */
function images(ins: Instruction[]): string[] {
  return expand(ins).filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--'))[0]);
}

/** Whether a path is sent to the builder: the last .dockerignore pattern matching it or a parent folder decides. */
function letThrough(ignoreFile: string, file: string): boolean {
  const lines = fs.readFileSync(ignoreFile, 'utf-8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(lines[0]).toBe('*');
  const parents = file.split('/').map((_, n, parts) => parts.slice(0, n + 1).join('/'));
  let sent = true;
  for (const line of lines) {
    const pattern = line.replace(/^!/, '');
    const regex = new RegExp(`^${pattern.split(/(\*\*|\*|\?)/).map((part) =>
      part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')).join('')}$`);
    if (parents.some((p) => regex.test(p))) sent = line.startsWith('!');
  }
  return sent;
}

/** The esbuild flags of a command line, without the entry point and the output. */
function bundleFlags(args: string[]): string[] {
  return args.filter((a) => a.startsWith('--') && !a.startsWith('--outfile') && !a.startsWith('--log-level')).sort();
}

describe('the TypeScript agents Dockerfile (agents/Dockerfile)', () => {
  const ins = instructions(DOCKERFILE);

  test('is the only one: no agent folder has a Dockerfile or an ignore file of its own', () => {
    expect(NODE_AGENTS.sort()).toEqual(['analyst', 'researcher', 'writer']);
    for (const agent of NODE_AGENTS) {
      expect(fs.readdirSync(path.join(AGENTS_DIR, agent)).filter((f) => /dockerfile|dockerignore/i.test(f))).toEqual([]);
    }
  });

  test('pins its base image to an exact Node 22 Alpine release from the public ECR mirror (never latest)', () => {
    expect(images(ins)).toHaveLength(2);
    for (const image of images(ins)) expect(image).toMatch(/^public\.ecr\.aws\/docker\/library\/node:22\.\d+\.\d+-alpine3\.\d+$/);
  });

  test('bundles on the build platform and runs the bundle as the non-root user node, with no health check (one task, no port)', () => {
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms).toHaveLength(2);
    expect(froms[0].args).toMatch(/^--platform=\$BUILDPLATFORM \S+ AS build$/);
    expect(froms[1].args).not.toContain('--platform');
    const runtime = ins.slice(ins.indexOf(froms[1]));
    expect(runtime.filter((i) => i.op === 'COPY')).toEqual([{ op: 'COPY', args: '--from=build /out/ /app/' }]);
    expect(runtime.filter((i) => i.op === 'USER').at(-1)?.args).toBe('node');
    expect(runtime.at(-1)).toEqual({ op: 'ENTRYPOINT', args: '["node", "/app/index.js"]' });
    expect(ins.map((i) => i.op)).not.toContain('HEALTHCHECK');
  });

  test('takes the agent from ARG AGENT, declared (default researcher) in each stage that uses it', () => {
    const stages = ins.reduce<Instruction[][]>((acc, i) => (i.op === 'FROM' ? [...acc, [i]] : acc.length ? [...acc.slice(0, -1), [...acc.at(-1)!, i]] : acc), []);
    expect(stages.map((stage) => stage.filter((i) => i.op === 'ARG' && i.args.startsWith('AGENT')).map((i) => i.args))).toEqual([['AGENT=researcher'], ['AGENT=researcher']]);
    for (const stage of stages) {
      const declared = stage.findIndex((i) => i.op === 'ARG' && i.args.startsWith('AGENT'));
      expect(stage.findIndex((i) => /\$\{?AGENT\b/.test(i.args))).toBeGreaterThan(declared);
    }
    expect(ins.filter((i) => i.op === 'COPY' && i.args.includes('${AGENT}'))).toEqual([{ op: 'COPY', args: 'agents/${AGENT}/src agents/${AGENT}/src' }]);
  });

  test.each(NODE_AGENTS)('builds with --build-arg AGENT=%s: its sources exist and are sent, its entry point is bundled as `npx projen bundle` does', (agent) => {
    const built = expand(ins, { AGENT: agent });
    const sources = built.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(['package.json', 'package-lock.json', 'agents/kit/src', `agents/${agent}/src`]);
    for (const source of sources) {
      const full = path.join(ROOT, source);
      expect(fs.existsSync(full)).toBe(true);
      const probe = fs.statSync(full).isDirectory() ? `${source}/${fs.readdirSync(full)[0]}` : source;
      expect({ probe, sent: letThrough(IGNORE_FILE, probe) }).toEqual({ probe, sent: true });
    }
    const esbuild = built.find((i) => i.op === 'RUN' && i.args.includes('esbuild'))!.args.split(/\s+/);
    expect(esbuild.slice(0, 3)).toEqual(['npx', 'esbuild', `agents/${agent}/src/main.ts`]);
    const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf-8')) as { tasks: Record<string, { steps?: Array<{ exec?: string; execArgs?: string[] }> }> };
    const step = tasks.tasks[`bundle:agents/${agent}/src/main`].steps![0];
    expect(bundleFlags(esbuild)).toEqual(bundleFlags(step.execArgs ?? step.exec!.split(/\s+/)));
    expect(built.find((i) => i.op === 'LABEL')?.args).toBe(`org.opencontainers.image.title="cdk-durable-agents ${agent} agent"`);
  });

  test('its ignore file sends the sources only (not node_modules, tests or the library), and serves as a root .dockerignore', () => {
    for (const file of ['node_modules/esbuild/package.json', 'src/index.ts', 'agents/researcher/test/agents.test.ts', 'agents/python-minimal/agent.py', 'cdk.out/x']) {
      expect({ file, sent: letThrough(IGNORE_FILE, file) }).toEqual({ file, sent: false });
    }
    // The CDK stages the context with the root .dockerignore and re-includes only `Dockerfile` by name.
    expect(letThrough(IGNORE_FILE, 'agents/Dockerfile')).toBe(true);
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

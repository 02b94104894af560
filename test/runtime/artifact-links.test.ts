/**
 * A symbolic link in the local artifact folder is never followed: an agent that links to a file
 * outside the folder cannot get it reported, published or read back.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { agentStep, definition } from './fixtures';
import { makeRuntime } from './harness';
import { LocalArtifactStore } from '../../src/runtime/adapters/local';
import { LocalDurableControl } from '../../src/runtime/durable/local-durable-control';
import { ArtifactRefusedError } from '../../src/runtime/ports';

beforeAll(() => LocalDurableControl.setup());
afterAll(() => LocalDurableControl.teardown());

const SECRET = 'outside-secret-4f1c';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** An artifact folder, and a file outside it holding SECRET. */
function folders(): { root: string; artifacts: string; outside: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-links-'));
  dirs.push(root);
  const artifacts = path.join(root, 'artifacts');
  fs.mkdirSync(artifacts);
  const outside = path.join(root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.md'), SECRET);
  return { root, artifacts, outside };
}

/** Every file's content under a folder (links not followed). */
function contentsUnder(dir: string): string {
  if (!fs.existsSync(dir)) return '';
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => fs.lstatSync(f).isFile())
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
}

describe('LocalArtifactStore refuses symbolic links', () => {
  test('a linked file: exists, get and copy refuse it naming the key and the link; nothing is copied', async () => {
    const { artifacts, outside } = folders();
    fs.mkdirSync(path.join(artifacts, 'tasks'));
    const link = path.join(artifacts, 'tasks', 'report.md');
    fs.symlinkSync(path.join(outside, 'secret.md'), link);
    const store = new LocalArtifactStore(artifacts);
    const why = /artifact 'tasks\/report\.md': .*tasks\/report\.md is a symbolic link, and local artifacts never follow links/;
    await expect(store.exists('tasks/report.md')).rejects.toThrow(why);
    await expect(store.exists('tasks/report.md')).rejects.toBeInstanceOf(ArtifactRefusedError);
    await expect(store.get('tasks/report.md')).rejects.toThrow(why);
    await expect(store.copy('tasks/report.md', 'published/report.md')).rejects.toThrow(why);
    expect(fs.existsSync(path.join(artifacts, 'published'))).toBe(false);
    expect(contentsUnder(artifacts)).not.toContain(SECRET);
  });

  test('a linked folder on the way to the key is refused too, for reads and writes (nothing written outside)', async () => {
    const { artifacts, outside } = folders();
    fs.symlinkSync(outside, path.join(artifacts, 'tasks'));
    const store = new LocalArtifactStore(artifacts);
    await expect(store.exists('tasks/secret.md')).rejects.toThrow(/cannot read artifact 'tasks\/secret\.md': .*tasks is a symbolic link/);
    await expect(store.get('tasks/secret.md')).rejects.toThrow(/tasks is a symbolic link/);
    await expect(store.copy('tasks/secret.md', 'published/r.md')).rejects.toThrow(/cannot copy artifact 'tasks\/secret\.md'/);
    await expect(store.put('tasks/new.md', 'x')).rejects.toThrow(/cannot write artifact 'tasks\/new\.md': .*tasks is a symbolic link/);
    await store.put('ok/a.md', 'a');
    await expect(store.copy('ok/a.md', 'tasks/copied.md')).rejects.toThrow(/cannot write artifact 'tasks\/copied\.md'/);
    expect(fs.readdirSync(outside)).toEqual(['secret.md']);
  });

  test('regular files and missing keys are unaffected', async () => {
    const { artifacts } = folders();
    const store = new LocalArtifactStore(artifacts);
    await store.put('a/b.md', 'hello');
    expect(await store.exists('a/b.md')).toBe(true);
    expect(await store.exists('a/missing.md')).toBe(false);
    expect(await store.exists('missing/b.md')).toBe(false);
    expect(await store.get('missing/b.md')).toBeUndefined();
    await store.copy('a/b.md', 'c/d.md');
    expect(Buffer.from((await store.get('c/d.md'))!).toString()).toBe('hello');
  });
});

describe('the runtime with a linked artifact', () => {
  test('a publish of a linked artifact fails at once naming the key and why; the outside file is never published', async () => {
    const rt = makeRuntime(definition([
      { type: 'publish', name: 'publish', artifact: { from: 'literal', value: 'drafts/report.md' } },
    ]), {});
    try {
      const artifactsDir = rt.ports.artifacts.location.localDir!;
      fs.mkdirSync(path.join(artifactsDir, 'drafts'), { recursive: true });
      const outside = path.join(rt.dir, 'secret.md');
      fs.writeFileSync(outside, SECRET);
      fs.symlinkSync(outside, path.join(artifactsDir, 'drafts', 'report.md'));
      const id = await rt.start({ topic: 't' });
      const wf = await rt.finished(id);
      expect(wf.status).toBe('FAILED');
      expect(wf.error.code).toBe('PUBLISH_FAILED');
      expect(wf.error.message).toMatch(/step 'publish': cannot read artifact 'drafts\/report\.md': .*drafts\/report\.md is a symbolic link/);
      // Refused for what it is: one attempt, no retries.
      const publish = wf.steps.find((s: { name: string }) => s.name === 'publish');
      expect(publish).toMatchObject({ status: 'FAILED' });
      expect(publish.attempts ?? 1).toBe(1);
      expect(contentsUnder(artifactsDir)).not.toContain(SECRET);
      expect((await rt.call('GET', `/workflows/${id}/report`)).body ?? {}).not.toEqual(expect.objectContaining({ content: SECRET }));
    } finally {
      rt.dispose();
    }
  });

  test("an agent's report naming a linked artifact is refused with 400 naming the field and the link", async () => {
    let answer: { status: number; body: any } | undefined;
    const rt = makeRuntime(definition([agentStep('writing', 'writer')]), {
      writer: async (envelope, tools) => {
        const key = `${envelope.artifacts.prefix}report.md`;
        const file = path.join(tools.runtime.ports.artifacts.location.localDir!, key);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const outside = path.join(tools.runtime.dir, 'secret.md');
        fs.writeFileSync(outside, SECRET);
        fs.symlinkSync(outside, file);
        answer = await tools.report({ status: 'succeeded', artifacts: { report: key } });
        await tools.report({ status: 'failed', error: { code: 'LINKED', message: 'the artifact was a link' } });
      },
    });
    try {
      const id = await rt.start({ topic: 't' });
      const wf = await rt.finished(id);
      expect(answer?.status).toBe(400);
      expect(answer?.body.message).toMatch(/field 'artifacts\.report': cannot read artifact '.*report\.md': .* is a symbolic link/);
      expect(wf.status).toBe('FAILED');
      expect(JSON.stringify(wf)).not.toContain(SECRET);
    } finally {
      rt.dispose();
    }
  });
});

/**
 * Approval links on the local server, end to end over HTTP: a workflow reaches its approval, the
 * console shows the links (and what is approved) under the workflow, a GET of the approve link
 * answers the confirmation page and decides nothing, the form post approves, and the report is
 * published. The key is made once in the data folder (mode 0600) and survives a restart.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startWorkflow, tempDir, testAgents, waitForApproval, waitForEnd, waitUntil } from './helpers';
import { LINK_KEY_FILE } from '../../src/cli/approval-links';
import { LocalServer, startLocalServer } from '../../src/cli/server';

jest.setTimeout(90_000);

async function fetchText(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

describe('approval links on the local server', () => {
  let server: LocalServer | undefined;
  const dir = tempDir();
  const lines: string[] = [];

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the link printed under the workflow approves it over HTTP, and the report is published', async () => {
    const first = await startLocalServer({ port: 0, dataDir: dir, agentCommands: testAgents(), log: (l) => lines.push(l) });
    server = first;
    const keyFile = path.join(dir, LINK_KEY_FILE);
    expect(fs.statSync(keyFile).mode % 0o1000).toBe(0o600);
    const key = fs.readFileSync(keyFile, 'utf8');
    expect(key.trim()).toMatch(/^[0-9a-f]{64}$/);

    const id = await startWorkflow(first.url);
    await waitForApproval(first.url, id);
    const mine = () => lines.filter((l) => l.includes(`[${id.slice(0, 11)}]`));
    await waitUntil(() => mine().some((l) => l.includes('approve link: ')), 20_000, 'the approve link on the console');
    const approveLink = /approve link: (\S+)/.exec(mine().find((l) => l.includes('approve link: '))!)![1];
    expect(approveLink.startsWith(`${first.url}/approvals/`)).toBe(true);
    expect(mine().some((l) => l.includes('reject link:  ') && l.includes(`${first.url}/approvals/`))).toBe(true);
    expect(mine().some((l) => /to approve: agents\/writer\/.*report/.test(l))).toBe(true);

    // A GET (a mail preview, a link scanner) decides nothing.
    const page = await fetchText(approveLink);
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<form method="post">');
    expect((await waitForApproval(first.url, id)).awaiting).toBe('approval');

    // The page's form post, as a browser sends it (same origin).
    const decided = await fetchText(approveLink, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'origin': first.url, 'user-agent': 'e2e-browser' },
      body: 'comment=approved+from+the+link',
    });
    expect(decided.status).toBe(200);
    expect(decided.text).toContain('Approved');
    const done = await waitForEnd(first.url, id);
    expect(done.status).toBe('SUCCEEDED');
    expect(fs.existsSync(path.join(first.artifactsDir, 'published', id, 'report.md'))).toBe(true);
    expect(done.decisions).toEqual([expect.objectContaining({
      decision: 'approved', via: 'link', by: expect.stringMatching(/^link:lk-/), comment: 'approved from the link', source_ip: '127.0.0.1',
    })]);

    // Used: a second post is refused with the reason, and the workflow stays as it ended.
    const again = await fetchText(approveLink, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.text).message).toMatch(/already used/);

    // A restart keeps the key (links printed before it stay valid), and the audit record.
    await first.close();
    const second = await startLocalServer({ port: 0, dataDir: dir, agentCommands: testAgents(), log: () => undefined });
    server = second;
    expect(fs.readFileSync(keyFile, 'utf8')).toBe(key);
    const after = await fetchText(`${second.url}/workflows/${id}`);
    expect(JSON.parse(after.text).decisions).toEqual(done.decisions);
  });

  test('a key file others can read is refused with the fix', async () => {
    const other = tempDir();
    try {
      fs.writeFileSync(path.join(other, LINK_KEY_FILE), `${'ab'.repeat(32)}\n`, { mode: 0o644 });
      fs.chmodSync(path.join(other, LINK_KEY_FILE), 0o644);
      await expect(startLocalServer({ port: 0, dataDir: other, agentCommands: testAgents(), log: () => undefined }))
        .rejects.toThrow(/can be read by other users \(mode 644\); run chmod 600/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});

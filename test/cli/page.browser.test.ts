/**
 * The local server's page in a real browser: Debian's headless Chromium driven by playwright-core
 * (test/helpers/chromium.ts), against the server with the bundled reference agents. A person's
 * path: open the page, start a workflow from the form, watch it reach its approval live (the list
 * and the event feed update from server-sent events; the page polls neither), approve it, read the
 * report. Missing Chromium or bundles: skipped with the reason, failed under CI=true.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';
import { startWorkflow, tempDir, waitForApproval, waitForEnd } from './helpers';
import { REFERENCE_AGENTS, referenceAgentEntry } from '../../src/cli/paths';
import { LocalServer, startLocalServer } from '../../src/cli/server';
import { launchChromium } from '../helpers/chromium';
import { builtFile, describeIfInstalled } from '../helpers/tools';

jest.setTimeout(90_000);

const bundles = REFERENCE_AGENTS.map((name) => builtFile(referenceAgentEntry(name), '`npx projen bundle`, which the test and build tasks run before jest'));

describeIfInstalled(['chromium', ...bundles], 'the local server\'s page in headless Chromium (reference agents)', () => {
  let server: LocalServer;
  let browser: Browser;
  let page: Page;
  /** What the browser reports as wrong: console errors, uncaught exceptions, failed requests. */
  const problems: string[] = [];

  beforeAll(async () => {
    server = await startLocalServer({ port: 0, dataDir: tempDir(), log: () => undefined });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('start a workflow from the form, see it reach approval live, approve it, read the report', async () => {
    await page.goto(`${server.url}/`);
    await expectText(page, '#live', 'live'); // the stream of every workflow is open
    await expectText(page, '#workflow-name', 'research-report');

    // A form a person can use: labelled fields, and an input that is not JSON is explained, not sent.
    const topic = page.getByLabel('Topic', { exact: true });
    const input = page.getByLabel(/Input \(JSON object/);
    await input.fill('{"parameters": ');
    await page.getByRole('button', { name: 'Start workflow' }).click();
    await expectText(page, '#start-message', /The input is not valid/);
    expect(await page.locator('#input-json:focus').count()).toBe(1);

    await topic.fill('Durable agents in the browser');
    await input.fill('{"parameters": {"depth": "brief"}}');
    await page.getByRole('button', { name: 'Start workflow' }).click();
    await expectText(page, '#start-message', /^Started wf-/);
    const id = (await page.locator('#start-message').textContent())!.replace(/^Started (wf-[0-9a-f]+)\.$/, '$1');
    expect(id).toMatch(/^wf-[0-9a-f]{32}$/);
    // The workflow is shown and focus moved to it (a keyboard or screen reader user lands there).
    await expectText(page, '#detail-title', `Workflow ${id}`);
    expect(await page.locator('#detail:focus').count()).toBe(1);

    // Live: the list (updated only by GET /events) and the workflow's event feed (its own stream).
    const row = page.locator(`#workflow-rows tr[data-workflow-id="${id}"]`);
    await row.locator('td:nth-child(3)', { hasText: 'approval' }).waitFor();
    await page.locator('#events li', { hasText: 'Workflow Approval Requested' }).waitFor();
    await page.locator('#approval-box').waitFor({ state: 'visible' });
    await expectText(page, '#approval-prompt', /approve to publish it/);
    // The timeline: the three agent steps done with one attempt each and a duration, the approval waiting.
    for (const step of ['research', 'analysis', 'writing']) {
      const item = page.locator(`#timeline li[data-step="${step}"]`);
      expect(await item.getAttribute('data-status')).toBe('SUCCEEDED');
      expect(await item.textContent()).toMatch(/agent step · 1 attempt · took \d+\.\d s/);
    }
    await page.locator('#timeline li[data-step="approval"][data-status="WAITING"]').waitFor();
    // The artifacts, readable in the page (served by GET /artifacts/<key>).
    await page.getByRole('button', { name: 'Show artifact writing: report' }).click();
    await expectText(page, '#artifact-text', /Durable agents in the browser/);

    await page.getByLabel('Comment (optional)').fill('reads well');
    await page.getByRole('button', { name: 'Approve' }).click();
    await expectText(page, '#action-message', /^Approved/);

    // The end, live: the report shown, every step done, the list and the feed say so.
    await page.locator('#report').waitFor({ state: 'visible' });
    await expectText(page, '#report-body h2', 'Durable agents in the browser');
    await page.locator('#events li', { hasText: 'stream ended: workflow SUCCEEDED' }).waitFor();
    await row.locator('.badge', { hasText: 'SUCCEEDED' }).waitFor();
    expect(await page.locator('#timeline li').evaluateAll((items) => items.map((li) => `${li.getAttribute('data-step')}:${li.getAttribute('data-status')}`)))
      .toEqual(['research:SUCCEEDED', 'analysis:SUCCEEDED', 'writing:SUCCEEDED', 'approval:SUCCEEDED', 'publish:SUCCEEDED']);
    expect(await page.locator('#timeline li[data-step="approval"]').textContent()).toContain('comment: reads well');
    await page.locator('#approval-box').waitFor({ state: 'hidden' });
    await page.locator('#cancel-button').waitFor({ state: 'hidden' });

    expect(problems).toEqual([]);
  });

  test('cancel from the page: the workflow ends CANCELLED and its stream says so', async () => {
    await page.getByLabel('Topic', { exact: true }).fill('Cancelled from the page');
    await page.getByLabel(/Input \(JSON object/).fill('{"parameters": {"depth": "brief"}}');
    await page.getByRole('button', { name: 'Start workflow' }).click();
    await expectText(page, '#start-message', /^Started wf-/);
    const id = (await page.locator('#start-message').textContent())!.replace(/^Started (wf-[0-9a-f]+)\.$/, '$1');
    await expectText(page, '#detail-title', `Workflow ${id}`);
    await page.locator('#approval-box').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Cancel workflow' }).click();
    await page.locator('#events li', { hasText: 'stream ended: workflow CANCELLED' }).waitFor();
    await page.locator(`#workflow-rows tr[data-workflow-id="${id}"] .badge`, { hasText: 'CANCELLED' }).waitFor();
    expect(problems).toEqual([]);
  });

  test('an approval link the server issued approves from the browser: its page posts the decision back to this server', async () => {
    const id = await startWorkflow(server.url, { topic: 'Approved by link', parameters: { depth: 'brief' } });
    await waitForApproval(server.url, id, 60_000);
    // The links travel in the approval_requested event (and on the console); read them from the event log.
    const requested = fs.readFileSync(path.join(server.dataDir, 'events.jsonl'), 'utf8').trim().split('\n')
      .map((line) => JSON.parse(line))
      .find((e) => e.workflowId === id && e.detail?.links?.approve);
    expect(requested).toBeDefined();
    const linkPage = await browser.newPage();
    const refused: string[] = [];
    linkPage.on('response', (r) => {
      if (r.status() >= 400) refused.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    try {
      await linkPage.goto(requested.detail.links.approve);
      await linkPage.getByLabel('Comment (optional)').fill('approved from the mail');
      // A real browser's form post (its Origin is this server's own, which the server checks).
      await linkPage.getByRole('button', { name: 'Approve' }).click();
      await linkPage.waitForLoadState();
      expect(refused).toEqual([]);
    } finally {
      await linkPage.close();
    }
    const done = await waitForEnd(server.url, id, 60_000);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.decisions).toEqual([expect.objectContaining({ decision: 'approved', comment: 'approved from the mail', via: 'link' })]);
  });
});

/** Waits until the element's text is (or matches) `expected`; fails with what it was. */
async function expectText(page: Page, selector: string, expected: string | RegExp): Promise<void> {
  const matches = (text: string) => (typeof expected === 'string' ? text.trim() === expected : expected.test(text.trim()));
  const deadline = Date.now() + 30_000;
  let last = '';
  for (;;) {
    last = (await page.locator(selector).first().textContent()) ?? '';
    if (matches(last)) return;
    if (Date.now() > deadline) throw new Error(`${selector}: expected ${String(expected)}, last text '${last}'`);
    await page.waitForTimeout(50);
  }
}

/**
 * Remakes the README's picture of the local server's page (docs/images/local-server-page.png):
 * the local server with the reference agents (offline) in a temporary folder, one workflow
 * approved to its report and one waiting for approval, shown in headless Chromium (the same
 * browser and flags as test/cli/page.browser.test.ts). Run by `npx projen screenshot:page`, which
 * bundles the agents first; the picture changes with every run (ids, times), so no build makes it.
 *
 *   npx projen screenshot:page [-- --out <file.png>]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startLocalServer } from '../src/cli/server';
import { launchChromium } from '../test/helpers/chromium';

const DEFAULT_OUT = path.join(__dirname, '..', 'docs', 'images', 'local-server-page.png');

async function main(argv: readonly string[]): Promise<void> {
  const outIndex = argv.indexOf('--out');
  const out = path.resolve(outIndex >= 0 && argv[outIndex + 1] ? argv[outIndex + 1] : DEFAULT_OUT);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-screenshot-'));
  const server = await startLocalServer({ port: 0, dataDir, log: () => undefined });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
    page.setDefaultTimeout(60_000);
    await page.goto(`${server.url}/`);
    const start = async (topic: string) => {
      await page.getByLabel('Topic', { exact: true }).fill(topic);
      await page.getByRole('button', { name: 'Start workflow' }).click();
      await page.locator('#approval-box').waitFor({ state: 'visible' });
    };
    await start('Impact of quantum computing on cryptography');
    await page.getByLabel('Comment (optional)').fill('ship it');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#report').waitFor({ state: 'visible' });
    await start('Durable execution for AI agents');
    await page.locator('#events li', { hasText: 'Workflow Approval Requested' }).waitFor();
    await page.locator('#live.on').waitFor();
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: false });
    process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`screenshot:page failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

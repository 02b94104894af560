/**
 * Headless Chromium for the local server's page (test/cli/page.browser.test.ts and the README's
 * screenshot, projenrc/screenshot-page.ts): the installed browser (see `TOOLS.chromium`) driven by
 * playwright-core, with the flags of shared/DESIGN.md. Nothing is downloaded.
 */
import { Browser, chromium } from 'playwright-core';
import { TOOLS } from './tools';

/** The flags every launch uses (headless, no sandbox in containers, nothing fetched in the background). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

/** Launches the installed Chromium; rejects naming the tool and how to install it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = TOOLS.chromium.find();
  if (!executablePath) {
    throw new Error(`chromium is missing (looked ${TOOLS.chromium.lookedIn}); ${TOOLS.chromium.install}`);
  }
  return chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS], headless: true, timeout: 60_000 });
}

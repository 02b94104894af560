/**
 * Approval links on the local server: the key they are signed with (a file of the data folder,
 * made once) and the console lines that show them under their workflow, with what is approved
 * (the notification of a waiting approval, as an SNS message carries it in the cloud).
 */
import { randomBytes } from 'crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'fs';
import * as path from 'path';
import { CliError } from './errors';
import { MIN_KEY_BYTES } from '../runtime/approval-links';

/** File of the data folder that holds the approval link key. */
export const LINK_KEY_FILE = 'approval-link.key';

/**
 * The approval link key of a data folder: `<dataDir>/approval-link.key` (64 hex characters,
 * mode 0600), created with a random key the first time, then read as it is, so links printed
 * before a restart stay valid after it.
 */
export function localLinkKey(dataDir: string): Buffer {
  const file = path.join(dataDir, LINK_KEY_FILE);
  try {
    // 'wx': created only if absent, so two starts never write two keys.
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CliError(`cannot create the approval link key ${file}: ${(e as Error).message}`);
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]+$/.test(text) || text.length < MIN_KEY_BYTES * 2) {
    throw new CliError(`the approval link key ${file} is not ${MIN_KEY_BYTES * 2} or more hex characters; delete it and start again (links issued with it stop working)`);
  }
  const mode = statSync(file).mode % 0o1000;
  // Any permission for the group or others (the low six bits): the key must be the owner's alone.
  if (process.platform !== 'win32' && mode % 0o100 !== 0) {
    throw new CliError(`the approval link key ${file} can be read by other users (mode ${mode.toString(8)}); run chmod 600 ${file}`);
  }
  return Buffer.from(text, 'hex');
}

/** The console lines of an `approval_requested` event's links and summary (none when it has neither). */
export function approvalRequestLines(detail: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const summary = detail.summary as { artifact_key?: unknown; excerpt?: unknown; truncated?: unknown } | undefined;
  if (summary && typeof summary.artifact_key === 'string') {
    lines.push(`  to approve: ${summary.artifact_key}`);
    if (typeof summary.excerpt === 'string') {
      for (const l of summary.excerpt.split('\n').slice(0, 6)) lines.push(`    | ${l}`);
      if (summary.truncated === true || summary.excerpt.split('\n').length > 6) lines.push('    | ...');
    }
  }
  const links = detail.links as { approve?: unknown; reject?: unknown; expires_at?: unknown } | undefined;
  if (links && typeof links.approve === 'string' && typeof links.reject === 'string') {
    lines.push(`  approve link: ${links.approve}`);
    lines.push(`  reject link:  ${links.reject}`);
    if (typeof links.expires_at === 'string') lines.push(`  (open a link, then confirm; each works once, until ${links.expires_at})`);
  }
  return lines;
}

/**
 * Runs the Python data tier helper's own unittest suite (agents/python-data-tier/test_data_tier_urls.py).
 * Its URLs are used against real servers by test/data-tier/runtime/seed-003-app.test.ts. Without
 * python3 it fails under CI=true and is skipped elsewhere, saying why.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { findOnPath, testIfInstalled } from '../../../test/helpers/tools';

testIfInstalled('python3', 'the Python data tier helper passes its unittest suite', () => {
  const dir = path.join(__dirname, '..');
  const result = spawnSync(findOnPath('python3')!, ['-B', '-m', 'unittest', 'discover', '-s', dir, '-v'], { encoding: 'utf-8', timeout: 50_000 });
  // unittest prints its summary on stderr: "Ran N tests" then "OK" or "FAILED (...)".
  const summary = result.stderr.split('\n').slice(-6).join('\n');
  expect({ status: result.status, summary }).toEqual({ status: 0, summary: expect.stringMatching(/Ran (\d+) tests? in [\d.]+s\n\nOK/) });
  expect(Number(/Ran (\d+) tests?/.exec(result.stderr)![1])).toBeGreaterThanOrEqual(20);
}, 60_000);

/**
 * Runs the Python agent's own unittest suite (agents/python-minimal/test_agent.py), which runs
 * the agent as a process against a local callback server. Skipped, saying why, without python3.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { findOnPath } from '../../../test/helpers/tools';

const python = findOnPath('python3');
const run = python ? test : test.skip;
const name = python
  ? 'the python-minimal agent passes its unittest suite'
  : 'the python-minimal agent passes its unittest suite [skipped: python3 is not installed on PATH]';

run(name, () => {
  const dir = path.join(__dirname, '..');
  const result = spawnSync(python!, ['-m', 'unittest', 'discover', '-s', dir, '-v'], { encoding: 'utf-8', timeout: 50_000 });
  // unittest prints its summary on stderr: "Ran N tests" then "OK" or "FAILED (...)".
  const summary = result.stderr.split('\n').slice(-6).join('\n');
  expect({ status: result.status, summary }).toEqual({ status: 0, summary: expect.stringMatching(/Ran (\d+) tests? in [\d.]+s\n\nOK/) });
  expect(Number(/Ran (\d+) tests?/.exec(result.stderr)![1])).toBeGreaterThanOrEqual(15);
}, 60_000);

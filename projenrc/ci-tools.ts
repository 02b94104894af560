import { github } from 'projen';

/** The Python of the project's machines, which the pins in {@link CI_REQUIREMENTS} were taken on. */
export const CI_PYTHON_VERSION = '3.11';

/** moto[server] and cfn-lint, pinned; .ci/run installs the same file. */
export const CI_REQUIREMENTS = '.ci/requirements-ci.txt';

/** The data tier's loopback servers (PostgreSQL, Redis) and what makes their certificates. */
export const CI_APT_PACKAGES = ['postgresql', 'redis-server', 'openssl'];

/**
 * The steps that install what the tests need (shared/DESIGN.md, "CI requires its tools"), for
 * every workflow that runs the tests (the build and the release workflows), after the dependency
 * install and before the build: Python with the pinned moto, cfn-lint and the seed-003 app's drivers, PostgreSQL and Redis
 * from apt, the browser of the page test, then `.ci/check-tools`, which fails the job when one is still missing (the tests
 * would fail on it too: under CI=true a missing tool fails instead of skipping).
 */
export function ciToolSteps(): github.workflows.JobStep[] {
  return [
    {
      name: 'Setup Python (test tools)',
      uses: github.ActionRefs.ACTIONS_SETUP_PYTHON,
      with: { 'python-version': CI_PYTHON_VERSION },
    },
    {
      name: 'Install moto, cfn-lint and the Python drivers (pinned)',
      run: `python -m pip install -r ${CI_REQUIREMENTS}`,
    },
    {
      name: 'Install PostgreSQL and Redis',
      run: [
        'sudo apt-get update -qq',
        `sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${CI_APT_PACKAGES.join(' ')}`,
      ].join('\n'),
    },
    {
      // Ubuntu packages Chromium as a snap only; the runners come with Google Chrome, which the page's
      // browser test drives the same way (test/helpers/tools.ts, `chromium`). .ci/run uses Debian's chromium.
      name: 'Chromium for the page test',
      run: 'if [ ! -x /usr/bin/chromium ]; then echo "CHROMIUM_PATH=$(command -v google-chrome || command -v chromium-browser)" >> "$GITHUB_ENV"; fi',
    },
    { name: 'Check the test tools', run: 'bash .ci/check-tools' },
  ];
}

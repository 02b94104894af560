import { awscdk } from 'projen';

/**
 * `package:python-local`: builds the Python sdist and wheel without reaching PyPI.
 *
 * projen's stock `package:python` (used by the GitHub release workflow) lets jsii-pacmak
 * create a virtualenv and pip-install its build tools, which needs PyPI. This task asks
 * jsii-pacmak for the generated sources only, then builds them with Debian's
 * `python3-build` (no isolation, so setuptools and wheel come from the system) and
 * checks the result with `twine check`.
 */
export function addLocalPythonPackaging(project: awscdk.AwsCdkConstructLibrary): void {
  project.addTask('package:python-local', {
    description: 'Build the Python sdist and wheel with system python3-build (no PyPI) and twine-check them',
    exec: 'bash projenrc/package-python.sh',
  });
}

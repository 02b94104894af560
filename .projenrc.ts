import { awscdk, DependencyType, javascript } from 'projen';
import { ciToolSteps } from './projenrc/ci-tools';
import { addIntegrationWorkflow } from './projenrc/integ-workflow';
import { addLambdaBundles } from './projenrc/lambda-bundles';
import { addLocalPythonPackaging } from './projenrc/python-packaging';
import { stabilityOf, versionBeingBuilt } from './projenrc/release-metadata';

// ---------------------------------------------------------------------------
// Versions (see shared/DESIGN.md, "Versions"). Every development dependency is
// pinned to an exact version so that a fresh `npm ci` yields the same tree.
// ---------------------------------------------------------------------------
const CDK_PEER_MIN = '2.232.0'; // first aws-cdk-lib with Lambda `durableConfig`
const CDK_DEV = '2.257.0';
const CONSTRUCTS = '10.5.1';
const CDK_CLI = '2.1148.1';
const INTEG_TESTS_ALPHA = '2.245.0-alpha.0';
const INTEG_RUNNER = '2.197.10';
const CDK_NAG = '3.0.2';
const JSII = '~6.0.0';
const ESBUILD = '0.28.2';
const NODE_TARGET = 'node22';
const PLAYWRIGHT_CORE = '1.65.2'; // drives Debian bookworm's chromium 156 (checked)

/** Libraries bundled into the Lambda assets and the local runtime (never peer/runtime deps). */
const RUNTIME_BUNDLED = [
  '@aws/durable-execution-sdk-js@2.4.0',
  '@aws/durable-execution-sdk-js-testing@1.1.4',
  '@aws-lambda-powertools/logger@2.36.0',
  '@aws-lambda-powertools/metrics@2.36.0',
  '@aws-sdk/client-dynamodb@3.1162.0',
  '@aws-sdk/lib-dynamodb@3.1162.0',
  '@aws-sdk/client-s3@3.1169.0',
  '@aws-sdk/client-eventbridge@3.1169.0',
  '@aws-sdk/client-lambda@3.1162.0',
  '@aws-sdk/client-ecs@3.1162.0',
  '@aws-sdk/client-ssm@3.1162.0', // the controller reads agent targets from SSM parameters
];

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-durable-agents',
  packageName: 'cdk-durable-agents',
  description:
    'Durable multi-agent workflows on AWS: Lambda durable functions orchestrating containerized agents, ' +
    'human approvals, an ephemeral data tier and a secure API front door.',
  keywords: ['aws-cdk', 'cdk', 'durable-functions', 'lambda', 'agents', 'workflow', 'ecs', 'fargate'],
  author: 'cdk-durable-agents maintainers',
  authorAddress: 'maintainers@cdk-durable-agents.dev',
  repositoryUrl: 'https://github.com/cdk-durable-agents/cdk-durable-agents.git',
  license: 'Apache-2.0',
  // Follows the version (projenrc/release-metadata.ts): 0.x is `experimental`, which the Python
  // package publishes as "Development Status :: 4 - Beta"; 1.0.0 and later `stable` (5).
  stability: stabilityOf(versionBeingBuilt()),
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: {
    include: ['integ/**/*.ts', 'bench/**/*.ts', 'agents/**/*.ts', '.projenrc.ts', 'projenrc/**/*.ts'],
    // integ-runner stages assets (copies of agents/ among them) into the snapshots: not sources.
    // templates/: the apps `cdk-durable-agents init` writes import the installed package, not src/
    // (test/cli/init.test.ts compiles the TypeScript one against src/).
    exclude: ['node_modules', 'integ/*.snapshot', 'templates'],
    compilerOptions: {},
  },

  jsiiVersion: JSII,
  cdkVersion: CDK_PEER_MIN,
  constructsVersion: '10.0.5',
  // The minimum peer versions are not what we develop against: pin the dev copies ourselves.
  peerDependencyOptions: { pinnedDevDependency: false },
  devDeps: [
    `aws-cdk-lib@${CDK_DEV}`,
    `aws-cdk@${CDK_CLI}`,
    `@aws-cdk/integ-tests-alpha@${INTEG_TESTS_ALPHA}`,
    `@aws-cdk/integ-runner@${INTEG_RUNNER}`,
    `cdk-nag@${CDK_NAG}`,
    '@types/aws-lambda@8.10.164',
    'fast-check@4.10.2',
    '@aws-sdk/client-cloudformation@3.1162.0', // tests: deploy templates to moto_server
    '@smithy/signature-v4@5.7.5', // agents: SigV4-signed callbacks
    '@smithy/core@3.41.0', // agents: the SHA-256 of the SigV4 signer (the version every @aws-sdk client here pulls in)
    '@aws-sdk/credential-provider-node@3.972.97', // agents: the SDK's default credential chain for signed callbacks
    '@aws-sdk/client-bedrock-runtime@3.1162.0', // agents: Amazon Bedrock Converse
    '@aws-sdk/client-secrets-manager@3.1162.0', // data tier: reading connection secrets (bundled)
    // ContainerAgent image builds: the custom resource that starts and watches the CodeBuild build. 3.1149.0 is the
    // newest release of this client (AWS publishes a client only when it changes); Lambda's own SDK runs it.
    '@aws-sdk/client-codebuild@3.1149.0',
    'pg@8.23.1', // data tier: PostgreSQL client of the integ probe and the loopback tests
    '@types/pg@8.23.1',
    'redis@6.3.1', // data tier: Redis client of the integ probe and the loopback tests
    // The local server's page in a real browser (test/cli/page.browser.test.ts): drives Debian's `chromium`
    // (installed by .ci/run) as its executable; never a downloaded browser.
    `playwright-core@${PLAYWRIGHT_CORE}`,
    ...RUNTIME_BUNDLED,
  ],

  publishToPypi: {
    distName: 'cdk-durable-agents',
    module: 'cdk_durable_agents',
  },

  bundlerOptions: { esbuildVersion: ESBUILD },
  // Handlers are bundled by projenrc/lambda-bundles.ts (minified, source maps, node22).
  lambdaAutoDiscover: false,

  // Tests and checks.
  jestOptions: {
    // A stale snapshot fails the run; `npx projen test:update` rewrites snapshots on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/agents/*/test/**/*.test.ts'],
      // Coverage is of the library's source; tests that load the bundled assets must not count them.
      collectCoverageFrom: ['src/**/*.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/assets/'],
      coverageThreshold: {
        lines: 80, statements: 80, functions: 75, branches: 65,
      },
      testTimeout: 60_000,
      // Two workers even on a 2-core machine (jest's default there is one): the suite spends much
      // of its time waiting on child processes and servers (a third less wall time, measured).
      maxWorkers: 2,
    },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'integ', 'projenrc', 'bench', 'agents', '.projenrc.ts'],
    // One project for every linted file: tsconfig.dev.json covers src, test, integ and bench.
    projectService: false,
    tsconfigPath: './tsconfig.dev.json',
    // The assets integ-runner stages into the snapshots (copies of agents/ among them) are not sources.
    ignorePatterns: ['*.js', '*.d.ts', 'node_modules/', '*.generated.ts', 'coverage', 'integ/*.snapshot/'],
  },
  gitignore: ['cdk.out', '.tmp/', '/.jsii.tabl.json', '/.local/', '/integ/*.snapshot/asset.*', '/integ/.build/', '__pycache__/', '/node_modules'],
  npmignoreEnabled: true,
  npmIgnoreOptions: { ignorePatterns: ['/API.python.md', '/integ/', '/rosetta/', '/agents/*/test/', '/agents/*/test_*.py', '__pycache__/', '/integ.config.json', '/bench/', '/.ci/', '/tsconfig.dev.json', '.tmp/', '.local/', '/docs/'] },

  // GitHub. The workflows that run the tests install the tools they need first (projenrc/ci-tools.ts).
  buildWorkflowOptions: { preBuildSteps: ciToolSteps() },
  releaseWorkflowSetupSteps: ciToolSteps(),
  githubOptions: { mergify: false, pullRequestLintOptions: { semanticTitle: true } },
  depsUpgradeOptions: { workflowOptions: { labels: ['auto-approve'] } },
  autoApproveUpgrades: false,
  workflowNodeVersion: '22.x',
  minNodeVersion: '22.0.0',
});

// The runtime and the Lambda handlers import libraries that are bundled into the handler assets
// at build time (they are devDependencies on purpose: users of the constructs never load them);
// so does the command line's AWS module (src/cli/aws.ts, bundled into assets/cli).
project.eslint?.addOverride({
  files: ['src/runtime/**/*.ts', 'src/data-tier/runtime/**/*.ts', 'src/**/handlers/*.ts', 'agents/**/*.ts', 'src/cli/aws.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});

// The layers (STYLE.md): the runtime (bundled into the handlers and the CLI) and the contract it
// shares with the constructs never import construct code, and constructs never import the runtime;
// they meet only in src/contract. The handlers and the CLI compose the two. A wrong import is a
// lint error (test/lint/layers.test.ts shows it).
const CONSTRUCT_DIRS = ['durable-orchestrator', 'container-agent', 'secure-api', 'data-tier', 'workflow', 'monitoring', 'private'];
project.eslint?.addRules({
  'import/no-restricted-paths': ['error', {
    zones: [
      {
        target: ['./src/runtime/**', './src/contract/**', './src/data-tier/runtime/**'],
        from: [...CONSTRUCT_DIRS.map((d) => `./src/${d}/!(runtime|handlers)/**`), ...CONSTRUCT_DIRS.map((d) => `./src/${d}/*.ts`), './src/cli/**'],
        message: 'the runtime and the contract never import construct code (they run in Lambda and in the CLI without aws-cdk-lib); share it through src/contract',
      },
      {
        target: CONSTRUCT_DIRS.map((d) => `./src/${d}/*.ts`),
        from: ['./src/runtime/**', './src/cli/**', './src/*/runtime/**'],
        message: 'constructs never import runtime code (it is bundled into the handlers at build time); share facts through src/contract',
      },
      {
        target: './src/contract/**',
        from: ['./src/runtime/**', './src/cli/**'],
        message: 'the contract module depends on nothing but itself',
      },
    ],
  }],
});
project.eslint?.addOverride({
  files: ['src/runtime/**/*.ts', 'src/contract/**/*.ts', 'src/**/handlers/*.ts', 'src/data-tier/runtime/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{ group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'], message: 'runtime code runs without aws-cdk-lib and constructs (peer dependencies of the constructs only)' }],
    }],
  },
});

// AwsCdkDeps drops a build dependency on constructs in favour of the peer one; put the pin back.
project.deps.addDependency(`constructs@${CONSTRUCTS}`, DependencyType.BUILD);
// jsii warns that the dev copies are newer than the peer minimum; that is deliberate (see above).
// Reserved-word warnings are not silenced: a name that is a keyword in Python must be renamed.
project.compileTask.reset('jsii --silence-warnings=metadata/missing-dev-dependency');

// The stability (and the Python "Development Status") follows the version the release writes:
// `bump` sets it from the new version, `unbump` back from 0.0.0 (the committed state).
const SYNC_STABILITY = 'ts-node --project projenrc/tsconfig.json projenrc/release-metadata.ts sync-stability package.json';
project.tasks.tryFind('bump')?.exec(SYNC_STABILITY);
project.tasks.tryFind('unbump')?.exec(SYNC_STABILITY);
// The Python package of a release (projen's package:python) is checked as package:python-local's is.
project.tasks.tryFind('package:python')?.exec('ts-node --project projenrc/tsconfig.json projenrc/release-metadata.ts check-wheels dist/python');

// The registry reachable from this project's machines lacks some platform bindings of
// unrs-resolver 1.13.0 (pulled in by eslint-import-resolver-typescript); 1.12.2 has them all.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

addLambdaBundles(project, { target: NODE_TARGET });
addLocalPythonPackaging(project);
addIntegrationWorkflow(project, { nodeVersion: '22.x' });

// The `cdk-durable-agents` command (src/cli): bundled into assets/cli with the durable testing
// SDK's checkpoint worker beside it (the SDK starts it from <bundle dir>/checkpoint-server).
// The CJS builds are aliased: the ESM build of the testing SDK breaks when bundled, and a single
// copy of the durable SDK must serve both the controller and the local runner.
const TESTING_SDK = 'node_modules/@aws/durable-execution-sdk-js-testing/dist-cjs';
const DURABLE_SDK = 'node_modules/@aws/durable-execution-sdk-js/dist-cjs';
const ESBUILD_CLI = `esbuild --bundle --platform=node --target=${NODE_TARGET} --format=cjs --legal-comments=linked --log-level=warning`;
const bundleCli = project.addTask('bundle:cli', {
  description: 'Bundle the cdk-durable-agents command, its checkpoint worker and the reference agents\' local worker into assets/cli',
  steps: [
    {
      exec: `${ESBUILD_CLI} src/cli/main.ts --outfile=assets/cli/index.js --external:aws-cdk-lib --external:constructs ` +
        `--alias:@aws/durable-execution-sdk-js-testing=./${TESTING_SDK}/index.js --alias:@aws/durable-execution-sdk-js=./${DURABLE_SDK}/index.js`,
    },
    { exec: `${ESBUILD_CLI} ${TESTING_SDK}/checkpoint-server/index.js --outfile=assets/cli/checkpoint-server/index.js` },
    // The reference agents in one program: the local server's worker for all three (agents/reference-agents.ts).
    { exec: `${ESBUILD_CLI} --minify --keep-names agents/reference-agents.ts --outfile=assets/cli/reference-agents/index.js` },
  ],
});
project.bundler.bundleTask.spawn(bundleCli);
project.addBins({ 'cdk-durable-agents': 'assets/cli/index.js' });
project.addTask('dev', {
  description: 'Run the local server (the reference workflow and agents unless told otherwise): npm run dev -- --port 8080',
  steps: [{ spawn: 'bundle' }, { exec: 'node assets/cli/index.js dev', receiveArgs: true }],
});
// The README's picture of the local server's page, remade on demand (not by a build: it changes with every run).
project.addTask('screenshot:page', {
  description: 'Remake docs/images/local-server-page.png: the local server\'s page in headless Chromium (reference agents, offline)',
  steps: [
    { spawn: 'bundle' },
    { exec: 'ts-node --project tsconfig.dev.json projenrc/screenshot-page.ts', receiveArgs: true, env: { TS_NODE_TRANSPILE_ONLY: 'true' } },
  ],
});
project.addTask('demo', {
  description: 'Run one reference workflow end to end on the local server, offline, and print the report',
  steps: [{ spawn: 'bundle' }, { exec: 'node assets/cli/index.js demo', receiveArgs: true }],
});

// Integration tests (integ/integ.*.ts, see integ.config.json). `npm test` checks the committed
// snapshots without touching AWS; `integ:deploy` deploys them for real (the integ workflow).
const integEnv = { TS_NODE_PROJECT: 'tsconfig.dev.json', TS_NODE_TRANSPILE_ONLY: 'true' };
const integSnapshot = project.addTask('integ:snapshot', {
  description: 'Synthesize every integ/integ.*.ts and fail if its committed snapshot is stale (no AWS calls)',
  exec: 'integ-runner --config integ.config.json',
  env: integEnv,
  receiveArgs: true,
});
project.addTask('integ:update', {
  description: 'Re-synthesize every integ/integ.*.ts whose snapshot is stale and rewrite the snapshot (no deploy)',
  exec: 'integ-runner --config integ.config.json --update-on-failed --dry-run',
  env: integEnv,
  receiveArgs: true,
});
project.addTask('integ:deploy', {
  description: 'Deploy every integration test for real, run its assertions and destroy it (needs AWS credentials)',
  exec: 'integ-runner --config integ.config.json --force --update-on-failed',
  env: integEnv,
  receiveArgs: true,
});
project.testTask.spawn(integSnapshot);

// The README's TypeScript examples compile against the library as built (jsii-rosetta reads them
// from the assembly; rosetta/default.ts-fixture wraps each one). A broken example fails the build.
const checkExamples = project.addTask('docs:examples', {
  description: 'Compile every TypeScript example of the README against the built assembly (jsii-rosetta)',
  exec: 'jsii-rosetta extract --compile --fail --no-validate-assemblies --cache-to .tmp/rosetta/tablet.json .jsii',
});
project.postCompileTask.spawn(checkExamples);

// Python docs. The API reference in Python beside API.md (same assembly, Python names and
// signatures); and the README's Python examples, generated from its TypeScript ones through the
// tablet docs:examples just wrote, then dropped from the assembly's copy of the README so that
// PyPI (where jsii-pacmak translates every TypeScript example) shows each example once
// (projenrc/readme-python.ts). A stale generated file leaves the tree changed: .ci/run fails.
const docgen = project.tasks.tryFind('docgen');
docgen?.exec('jsii-docgen -l python -o API.python.md');
// jsii-docgen splits `MiB` where the bindings do not (memory_limit_mi_b): projenrc/api-python.ts.
docgen?.exec('ts-node --project tsconfig.dev.json projenrc/api-python.ts API.python.md', { env: { TS_NODE_TRANSPILE_ONLY: 'true' } });
const readmePython = project.addTask('docs:readme', {
  description: 'Write the Python translation under every TypeScript example of README.md, and drop those from the assembly\'s README',
  exec: 'ts-node --project tsconfig.dev.json projenrc/readme-python.ts',
  env: { TS_NODE_TRANSPILE_ONLY: 'true' },
});
project.postCompileTask.spawn(readmePython);

// The built library against the oldest aws-cdk-lib its peer dependency admits (the jest suite runs
// on the newer development copy and cannot see an API the minimum lacks). Run by .ci/run after the
// build; downloads that aws-cdk-lib into .tmp/ once.
// The price table of `cdk-durable-agents cost` (src/cli/cost/price-table.json), from the AWS Price List API.
project.addTask('prices:refresh', {
  description: 'Rebuild src/cli/cost/price-table.json from the AWS Price List API bulk offer files (needs network to AWS; args: --base-url, --date)',
  exec: 'ts-node --project tsconfig.dev.json projenrc/refresh-prices.ts',
  receiveArgs: true,
});

project.addTask('compat:peer-min', {
  description: 'Synthesize every construct from the built lib/ against the peer-minimum aws-cdk-lib (or the version given)',
  exec: 'node -r ts-node/register test/compat/peer-minimum.ts',
  env: integEnv,
  receiveArgs: true,
});

// The library as a Python team uses it: the wheel in dist/python with the jsii runtime, aws-cdk-lib
// and constructs (pinned in test/python/requirements.txt to the npm development pins) in a virtual
// environment under .tmp/, a Python app of every construct and step kind synthesized with jsii's
// type checks on, and its template compared with that of the same app in TypeScript. Run by
// .ci/run after package:python-local.
project.addTask('test:python-app', {
  description: 'Synthesize test/python/app/app.py from the built wheel with type checks on and compare it with its TypeScript twin app.ts',
  exec: 'bash test/python/run.sh',
});

// A team's first hour, from the packed tarball in a temporary folder, offline but for the npm
// registry: npm init, npm install <tarball>, `cdk-durable-agents init`, npm install, npm test,
// cdk synth, `dev --app cdk.out` and one workflow approved with the CLI to its report; then the
// same for `init --python` in the venv of test:python-app. Run by .ci/run after test:python-app.
project.addTask('test:first-hour', {
  description: 'From dist/js/*.tgz in a fresh folder: init, npm install, npm test, cdk synth, dev --app and one workflow to its report (and the Python app)',
  exec: 'bash test/first-hour/run.sh',
});

project.synth();

/**
 * Cold-start (module load) benchmark of the two durable-orchestrator Lambda handlers (not a test):
 *
 *   npx ts-node --project tsconfig.dev.json bench/cold-start.bench.ts [--runs 25] [--out bench/results/cold-start.json]
 *     [--profile <dir>] [--opt-dir <dir>] [--node-options '<flags>']
 *
 * Measures, side by side in one run, how long `require()` of each handler bundle takes in a fresh
 * node process, for these variants:
 *
 * - `empty`: `exports.handler = async () => ({})`, the floor (resolving, reading and compiling one file).
 * - `<handler>:default`: the handler entry bundled the way aws-cdk-lib's `NodejsFunction` bundles it
 *   by default for a `nodejs22.x` runtime, built here into a temp dir with the project's esbuild. Looked up
 *   in node_modules/aws-cdk-lib/aws-lambda-nodejs/lib/{function,bundling}.js (aws-cdk-lib 2.257):
 *     esbuild --bundle <entry> --target=node22 --platform=node --outfile=<tmp>/index.js --external:@aws-sdk/*
 *   i.e. minify false, sourceMap false (no .map; NodejsFunction adds no NODE_OPTIONS: the children of every
 *   variant get the construct's, see CHILD_ENV),
 *   no `--format` (esbuild's default for --platform=node is cjs; we pass --format=cjs, same output),
 *   no mainFields (esbuild's node default `main,module`), no keepNames, no loader/define/banner/footer,
 *   no tsconfig flag (esbuild finds tsconfig.json itself), cwd = project root. Externals: ['@aws-sdk/*'] for
 *   Node >= 18 runtimes; ['@aws-sdk/*', '@smithy/*'] only when the feature flag
 *   `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages` is set (recommended for new apps, but off when
 *   unconfigured, which is the default measured here).
 * - `<handler>:project`: the project's own bundle in assets/ as it is (whatever projenrc/lambda-bundles.ts
 *   produced last; run `npx projen bundle` to rebuild it). The bundle command found in .projen/tasks.json is
 *   recorded, and a warning is printed when a project file the handler is built from is newer than the bundle.
 *
 * Each sample is one fresh `node` process (this node, see `machine.node` in the results; Lambda runs node 22)
 * that takes `process.hrtime.bigint()` just before and just after `require(<bundle>)` and prints the
 * difference. Process start-up is not counted; nothing after the load (init of the first invocation, network)
 * is. Runs are interleaved and rotated (run 1: A,B,C,..; run 2: B,C,..,A) so that machine load hits every
 * variant alike; one unmeasured load per variant first warms the file cache and checks the handler loads.
 *
 * The child's environment is built from CHILD_ENV below only (nothing inherited but PATH): what the Lambda
 * service sets (region, fake credentials, function name, X-Ray, ...), what the DurableOrchestrator construct
 * sets (src/contract/table.ts ENV; no NODE_OPTIONS), and per function. `NODE_PATH` is the
 * Lambda runtime's layout with the project's node_modules standing in for /var/runtime/node_modules, so an
 * external `@aws-sdk/*` require resolves there, as the runtime resolves its bundled SDK; the cwd and
 * LAMBDA_TASK_ROOT are the bundle's folder (/var/task on Lambda). When a handler throws at load (say a new
 * required variable), the bench says which and with what message: update CHILD_ENV.
 *
 * --opt-dir <dir>: the folder the functions' layers are extracted to (/opt on Lambda), e.g. the configuration
 *   layer's asset folder in cdk.out. Without it the bench writes LAYER_FILES (below) into a temp folder. `{opt}`
 *   in a CHILD_ENV value is replaced by that folder (the handlers are pointed at their configuration file with
 *   WORKFLOW_CONFIG_FILE, which is unset on Lambda, where they read /opt/cdk-durable-agents/workflow-config.json),
 *   and `<dir>/nodejs/node22/node_modules`, `<dir>/nodejs/node_modules` come first on NODE_PATH as on Lambda. A
 *   handler that reads a hard-coded /opt/... path reads the real /opt whatever this option says.
 * --node-options '<flags>': NODE_OPTIONS of the children instead of the construct's ('' for none).
 * --profile <dir>: one extra child per project bundle under `node --cpu-prof` (100 us sampling); the .cpuprofile
 *   files go to <dir>. Printed and recorded, from the samples taken during the require() only: the top 15 of
 *   self time by package (or project file, or node internal), the same with node internals charged to code (a
 *   require()'s resolve/read/compile to the module it loads, other internals to their caller), and the top 15
 *   functions. Positions in a bundle are mapped to their original file through index.js.map (its `sources` and
 *   `mappings`) when there is one, else through the `// node_modules/<pkg>/...` module comments esbuild leaves in
 *   a non-minified bundle. A function's start position is what is mapped, so the bundle's top level (where
 *   esbuild hoists ES modules and their external require()s) and its module wrappers show as one group. A single
 *   profile on a busy machine is noisy (samples are wall-clock): read it for where the time goes, not how much.
 *
 * Writes bench/results/cold-start.json (or --out) with sizes, median/p90/min per variant, the ratio
 * median(project)/median(default) per handler, a pass/fail `budget` section (<= 250,000 bytes, median
 * <= 60 ms, ratio <= 0.6), the machine and the date, and prints a table. Exits non-zero only when the
 * bench itself cannot run (a bundle missing or failing to build or to load), never on a budget miss.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { buildSync, version as esbuildVersion } from 'esbuild';
import { researchDefinition } from '../test/runtime/fixtures';

// ================================================================================================
// CHILD_ENV: the environment of every measured process, and LAYER_FILES: the files of the functions'
// layers. EDIT HERE when the handlers' configuration changes (the names are those of src/contract/table.ts
// ENV, written out so that a renamed constant shows up as a clear load error, not a compile error here).
// In values, `{opt}` is the layer folder (/opt on Lambda; see --opt-dir) and `{sha256:<file>}` the SHA-256
// (hex) of that file's content as the bench finds it.
// ================================================================================================
const AGENT_NAMES = ['analyst', 'researcher', 'writer'];

/** Written under a temp layer folder unless --opt-dir names a real one (e.g. a layer asset from cdk.out). */
const LAYER_FILES: Record<string, string> = {
  // The configuration layer of the DurableOrchestrator (src/durable-orchestrator/workflow-config-layer.ts).
  'cdk-durable-agents/workflow-config.json': JSON.stringify({ configVersion: 1, definition: researchDefinition(), agentNames: AGENT_NAMES }),
};

const CHILD_ENV = {
  /** Set by the Lambda service (nodejs22.x, active tracing and JSON logs as the construct configures them). */
  lambda: {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: 'bench-fake-session-token',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_VERSION: '1',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
    _AWS_XRAY_DAEMON_PORT: '2000',
    _HANDLER: 'index.handler',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
  },
  /** Set by the DurableOrchestrator construct on both functions (no NODE_OPTIONS: see src/private/bundled-function.ts). */
  construct: {
    POWERTOOLS_METRICS_NAMESPACE: 'CdkDurableAgents',
    // 'true' with the construct's default `tracing` (active); 'false' keeps the X-Ray SDK from loading.
    POWERTOOLS_TRACE_ENABLED: 'true',
    WORKFLOW_TABLE_NAME: 'cdkda-WorkflowTable-BENCH',
    ARTIFACT_BUCKET_NAME: 'cdkda-artifactbucket-bench',
    EVENT_BUS_NAME: 'cdkda-EventBus-BENCH',
    STATE_RETENTION_DAYS: '14',
    // On Lambda WORKFLOW_CONFIG_FILE is unset and the handler reads /opt/cdk-durable-agents/workflow-config.json.
    WORKFLOW_CONFIG_FILE: '{opt}/cdk-durable-agents/workflow-config.json',
    WORKFLOW_CONFIG_SHA256: '{sha256:{opt}/cdk-durable-agents/workflow-config.json}',
  },
  /** Only for the `before` variants: the earlier handlers read the definition and the targets from the environment. */
  before: {
    WORKFLOW_DEFINITION: JSON.stringify(researchDefinition()),
    WORKFLOW_AGENTS: JSON.stringify(Object.fromEntries(AGENT_NAMES.map((n) => [n, { type: 'lambda', functionArn: `arn:aws:lambda:us-east-1:123456789012:function:${n}` }]))),
    CALLBACK_BASE_URL: 'https://abcdef1234.execute-api.us-east-1.amazonaws.com',
    NODE_OPTIONS: '--enable-source-maps',
  },
  /** Per function (name, memory and log group from the Lambda service; the rest from the construct). */
  handlers: {
    controller: {
      AWS_LAMBDA_FUNCTION_NAME: 'cdkda-OrchestratorControllerFunction-BENCH',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/cdkda-OrchestratorControllerFunction-BENCH',
      AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/01/[1]00000000000000000000000000000000',
      AGENT_TARGETS_PARAMETER_PREFIX: '/cdk-durable-agents/BENCH/agents',
      CALLBACK_BASE_URL: 'https://abcdef1234.execute-api.us-east-1.amazonaws.com',
    },
    api: {
      AWS_LAMBDA_FUNCTION_NAME: 'cdkda-OrchestratorApiFunction-BENCH',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/cdkda-OrchestratorApiFunction-BENCH',
      AWS_LAMBDA_LOG_STREAM_NAME: '2025/01/01/[$LATEST]00000000000000000000000000000000',
      CONTROLLER_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:cdkda-OrchestratorControllerFunction-BENCH:live',
    },
  },
} as const;
// ================================================================================================

const ROOT = path.join(__dirname, '..');
const HANDLERS = {
  controller: {
    entry: 'src/durable-orchestrator/handlers/controller.lambda.ts',
    bundle: 'assets/durable-orchestrator/handlers/controller.lambda/index.js',
  },
  api: {
    entry: 'src/durable-orchestrator/handlers/api.lambda.ts',
    bundle: 'assets/durable-orchestrator/handlers/api.lambda/index.js',
  },
} as const;
type HandlerName = keyof typeof HANDLERS;
const HANDLER_NAMES = Object.keys(HANDLERS) as HandlerName[];

/** NodejsFunction's default bundling for a nodejs22.x runtime (see the header). */
const NODEJS_FUNCTION_DEFAULT = {
  target: 'node22',
  platform: 'node',
  format: 'cjs',
  minify: false,
  sourcemap: false,
  external: ['@aws-sdk/*'],
} as const;

const BUDGET = { maxBundleBytes: 250_000, maxMedianLoadMs: 60, maxRatioToDefault: 0.6 } as const;

/**
 * The handlers as issue #12 measured them (definition and targets in the environment, every SDK
 * client and the X-Ray SDK loaded with the handler, zod): bundled the NodejsFunction default way,
 * they are the `before` variants, the baseline of the 0.6x budget. Their source is read from git;
 * the libraries they used and the project no longer has are installed once into .tmp/.
 */
const BEFORE_REF = '22a9bd7';
const BEFORE_EXTRA_PACKAGES = ['zod@4.6.7', '@aws-lambda-powertools/tracer@2.36.0'];

/**
 * What the first request loads after the module (the SDK modules the project bundles leave to
 * first use; a NodejsFunction-default bundle of the earlier handlers has them loaded already):
 * required by the child right after the bundle, timed apart, so that `load + first use` compares
 * what each variant costs before its first AWS call.
 */
const FIRST_USE_MODULES: Record<HandlerName, string[]> = {
  // A first invocation: state, events, checkpoints (Lambda), logs and metrics.
  controller: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-lambda',
    '@aws-lambda-powertools/logger', '@aws-lambda-powertools/metrics'],
  // POST /workflows: state and starting the execution (Lambda).
  api: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-lambda'],
};
const MIN_RUNS = 20;
const CHILD_TIMEOUT_MS = 120_000;
const MARKER = '@@cold-start@@';
const PROFILE_TOP = 15;
const RUNNER_FILE = 'measure-load.js';
const RUNNER_GROUP = '(the bundle file: resolved, read and compiled by require())';

type Bundling = 'empty' | 'nodejs-function-default' | 'nodejs-function-default-before' | 'project';

interface Variant {
  readonly id: string;
  readonly handler: HandlerName | null;
  readonly bundling: Bundling;
  readonly bundlePath: string;
}

/** What a child prints after the require(). */
interface ChildReport {
  readonly ms?: number;
  /** hrtime before/after the require(), in microseconds (the clock of --cpu-prof). */
  readonly startUs?: number;
  readonly endUs?: number;
  /** Packages loaded from a node_modules folder outside the bundle (external requires). */
  readonly externalPackages?: string[];
  readonly modulesLoaded?: number;
  /** Time to require FIRST_USE_MODULES after the bundle (ms). */
  readonly firstUseMs?: number;
  readonly error?: string;
}

interface Stats {
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

interface VariantResult {
  readonly id: string;
  readonly handler: HandlerName | null;
  readonly bundling: Bundling;
  readonly path: string;
  readonly bytes: number;
  readonly sourceMapBytes: number | null;
  readonly minified: boolean;
  readonly externalPackagesLoaded: string[];
  readonly modulesLoaded: number;
  readonly loadMs: Stats;
  readonly loadPlusFirstUseMs: Stats;
  readonly samplesMs: number[];
}

interface BudgetCheck {
  readonly handler: HandlerName;
  readonly criterion: string;
  readonly value: number;
  readonly limit: number;
  readonly pass: boolean;
}

interface ProfileGroup {
  readonly group: string;
  readonly selfMs: number;
  readonly percent: number;
}

interface ProfileFunction {
  readonly function: string;
  readonly source: string;
  readonly selfMs: number;
}

interface ProfileResult {
  readonly variant: string;
  readonly file: string;
  /** 'require' when only the samples between the two hrtime marks count, 'process' when the marks were not usable. */
  readonly window: 'require' | 'process';
  readonly windowMs: number;
  readonly mappedWith: 'source map' | 'module comments' | 'none';
  /** Self time by package (or project file, or node/V8 internal). */
  readonly byPackage: ProfileGroup[];
  /**
   * Self time with node internals charged to code: module loading (resolve, read, compile) to the module loaded,
   * other internals to the bundle or package code that called them.
   */
  readonly byPackageWithLoads: ProfileGroup[];
  readonly topFunctions: ProfileFunction[];
}

interface Results {
  readonly command: string;
  readonly date: string;
  readonly machine: {
    readonly cpuModel: string;
    readonly cpus: number;
    readonly loadavgBefore: number[];
    readonly loadavgAfter: number[];
    readonly memoryMiB: number;
    readonly node: string;
    readonly platform: string;
  };
  readonly notes: string[];
  readonly runs: number;
  readonly defaultBundling: {
    readonly esbuild: string;
    readonly command: string;
    readonly bundledPackages: Record<HandlerName, Array<{ package: string; bytes: number }>>;
  };
  readonly projectBundling: { readonly commands: Partial<Record<HandlerName, string>>; readonly staleWarnings: string[] };
  readonly childEnv: {
    readonly optDir: string;
    /** Files the bench wrote under optDir (LAYER_FILES); none when --opt-dir was given. */
    readonly layerFiles: string[];
    readonly nodePath: string;
    readonly nodeOptions: string;
    readonly variables: Record<'lambda' | 'construct' | HandlerName, Record<string, string>>;
  };
  readonly variants: VariantResult[];
  readonly ratios: Partial<Record<HandlerName, {
    readonly projectMedianMs: number;
    /** Of the `before` variant: the handler as issue #12 measured it, bundled the NodejsFunction default way. */
    readonly defaultMedianMs: number;
    readonly ratio: number;
    /** The same (current) source bundled the default way: what minification and bundling alone change. */
    readonly sameSourceDefaultMedianMs: number;
    readonly ratioToSameSourceDefault: number;
    /** Module load plus the SDK modules the first request loads, against the same for `before`. */
    readonly loadPlusFirstUseRatio: number;
  }>>;
  readonly budget: { readonly limits: typeof BUDGET; readonly checks: BudgetCheck[]; readonly pass: boolean };
  readonly profiles?: ProfileResult[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'runs': { type: 'string', default: '25' },
      'out': { type: 'string', default: path.join(__dirname, 'results', 'cold-start.json') },
      'profile': { type: 'string' },
      'opt-dir': { type: 'string' },
      'node-options': { type: 'string' },
      'before': { type: 'string' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < MIN_RUNS) throw new Error(`--runs must be a whole number >= ${MIN_RUNS}, got '${values.runs}'`);
  const nodeOptions = values['node-options'] ?? '';
  const loadavgBefore = os.loadavg();

  for (const name of HANDLER_NAMES) {
    if (!fs.existsSync(path.join(ROOT, HANDLERS[name].bundle))) {
      throw new Error(`${HANDLERS[name].bundle} is missing: run \`npx projen bundle\` first`);
    }
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkda-cold-start-'));
  try {
    // The layer folder: the one given, else LAYER_FILES written into a temp one.
    const optDir = values['opt-dir'] ? path.resolve(values['opt-dir']) : path.join(work, 'opt');
    if (values['opt-dir'] && !fs.statSync(optDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--opt-dir ${optDir} is not a folder`);
    if (!values['opt-dir']) {
      for (const [rel, text] of Object.entries(LAYER_FILES)) {
        fs.mkdirSync(path.dirname(path.join(optDir, rel)), { recursive: true });
        fs.writeFileSync(path.join(optDir, rel), text);
      }
    }
    const childVariables = resolvePlaceholders(optDir);

    // The measuring child and the empty handler.
    const runner = path.join(work, RUNNER_FILE);
    fs.writeFileSync(runner, RUNNER_SOURCE);
    const emptyDir = path.join(work, 'empty');
    fs.mkdirSync(emptyDir);
    fs.writeFileSync(path.join(emptyDir, 'index.js'), 'exports.handler = async () => ({});\n');

    // NodejsFunction's default bundling of each entry.
    const bundledPackages = {} as Record<HandlerName, Array<{ package: string; bytes: number }>>;
    /** The project files (relative to the root) each handler is built from. */
    const projectSources = {} as Record<HandlerName, string[]>;
    for (const name of HANDLER_NAMES) {
      const outfile = path.join(work, `${name}-default`, 'index.js');
      const result = buildSync({
        entryPoints: [path.join(ROOT, HANDLERS[name].entry)],
        bundle: true,
        outfile,
        absWorkingDir: ROOT,
        ...NODEJS_FUNCTION_DEFAULT,
        external: [...NODEJS_FUNCTION_DEFAULT.external],
        metafile: true,
        logLevel: 'silent',
      });
      if (result.errors.length > 0) throw new Error(`esbuild of ${HANDLERS[name].entry}: ${result.errors.map((e) => e.text).join('; ')}`);
      const inputs = Object.values(result.metafile.outputs)[0]?.inputs ?? {};
      projectSources[name] = Object.keys(inputs).filter((f) => !f.includes('node_modules/'));
      const perPackage = new Map<string, number>();
      for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
        const pkg = packageOf(input) ?? input;
        perPackage.set(pkg, (perPackage.get(pkg) ?? 0) + bytesInOutput);
      }
      bundledPackages[name] = [...perPackage].sort((a, b) => b[1] - a[1]).slice(0, PROFILE_TOP).map(([p, bytes]) => ({ package: p, bytes }));
    }

    const beforeDir = buildBefore(work, values.before ?? BEFORE_REF);
    const variants: Variant[] = [{ id: 'empty', handler: null, bundling: 'empty', bundlePath: path.join(emptyDir, 'index.js') }];
    for (const name of HANDLER_NAMES) {
      variants.push({ id: `${name}:before`, handler: name, bundling: 'nodejs-function-default-before', bundlePath: path.join(beforeDir, name, 'index.js') });
      variants.push({ id: `${name}:default`, handler: name, bundling: 'nodejs-function-default', bundlePath: path.join(work, `${name}-default`, 'index.js') });
      variants.push({ id: `${name}:project`, handler: name, bundling: 'project', bundlePath: path.join(ROOT, HANDLERS[name].bundle) });
    }

    const nodePath = [path.join(optDir, 'nodejs', 'node22', 'node_modules'), path.join(optDir, 'nodejs', 'node_modules'), path.join(ROOT, 'node_modules')].join(path.delimiter);
    const envOf = (variant: Variant): Record<string, string> => {
      const taskRoot = path.dirname(variant.bundlePath);
      const env: Record<string, string> = {
        ...childVariables.lambda,
        ...childVariables.construct,
        ...childVariables[variant.handler ?? 'controller'],
        NODE_OPTIONS: nodeOptions,
        ...(variant.bundling === 'nodejs-function-default-before' ? { ...CHILD_ENV.before, NODE_OPTIONS: values['node-options'] ?? CHILD_ENV.before.NODE_OPTIONS } : {}),
        BENCH_FIRST_USE: JSON.stringify(variant.handler ? FIRST_USE_MODULES[variant.handler] : []),
        NODE_PATH: nodePath,
        LAMBDA_TASK_ROOT: taskRoot,
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      };
      if (!env.NODE_OPTIONS) delete env.NODE_OPTIONS;
      return env;
    };
    const spawnChild = (variant: Variant, nodeArgs: string[] = []): ChildReport => {
      const res = spawnSync(process.execPath, [...nodeArgs, runner, variant.bundlePath], {
        cwd: path.dirname(variant.bundlePath),
        env: envOf(variant),
        encoding: 'utf8',
        timeout: CHILD_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
      });
      const line = res.stdout?.split('\n').find((l) => l.startsWith(MARKER));
      if (!line) {
        throw new Error(`${variant.id}: the child printed no measurement (exit ${res.status}, signal ${res.signal}${res.error ? `, ${res.error.message}` : ''})\n${(res.stderr ?? '').slice(-2000)}`);
      }
      return JSON.parse(line.slice(MARKER.length)) as ChildReport;
    };

    // The project bundles as they are now: a rebuild during the run is reported.
    const projectFiles = variants.filter((v) => v.bundling === 'project').map((v) => v.bundlePath);
    const fingerprint = (f: string) => `${fs.statSync(f).size}@${fs.statSync(f).mtimeMs}`;
    const before = new Map(projectFiles.map((f) => [f, fingerprint(f)]));

    // Warm-up and check: one unmeasured load per variant.
    const probes = new Map<string, ChildReport>();
    const failures: string[] = [];
    for (const v of variants) {
      const report = spawnChild(v);
      if (report.error !== undefined) failures.push(`${v.id} (${v.bundling === 'project' ? path.relative(ROOT, v.bundlePath) : v.bundlePath}) throws at load:\n    ${report.error.split('\n').slice(0, 6).join('\n    ')}`);
      probes.set(v.id, report);
    }
    if (failures.length > 0) {
      throw new Error(`${failures.join('\n')}\n  The child environment is CHILD_ENV at the top of bench/cold-start.bench.ts (plus NODE_PATH=${nodePath}), `
        + `the layer folder ${optDir}${values['opt-dir'] ? ' (--opt-dir)' : ' (LAYER_FILES)'}; update them to what configFromEnv `
        + '(src/runtime/aws-runtime.ts) and the handlers need now.');
    }

    // The measured loads, interleaved and rotated.
    const samples = new Map<string, number[]>(variants.map((v) => [v.id, []]));
    const firstUse = new Map<string, number[]>(variants.map((v) => [v.id, []]));
    for (let run = 0; run < runs; run++) {
      const order = variants.map((_, i) => variants[(i + run) % variants.length]);
      for (const v of order) {
        const report = spawnChild(v);
        if (report.ms === undefined) throw new Error(`${v.id}: run ${run + 1} failed to load: ${report.error}`);
        samples.get(v.id)!.push(report.ms);
        firstUse.get(v.id)!.push(report.ms + (report.firstUseMs ?? 0));
      }
      process.stdout.write(`\rbench: run ${run + 1}/${runs}`);
    }
    process.stdout.write('\n');

    const results: VariantResult[] = variants.map((v) => {
      const code = fs.readFileSync(v.bundlePath, 'utf8');
      const map = `${v.bundlePath}.map`;
      const probe = probes.get(v.id)!;
      return {
        id: v.id,
        handler: v.handler,
        bundling: v.bundling,
        path: v.bundling === 'project' ? path.relative(ROOT, v.bundlePath) : v.bundlePath,
        bytes: fs.statSync(v.bundlePath).size,
        sourceMapBytes: fs.existsSync(map) ? fs.statSync(map).size : null,
        minified: looksMinified(code),
        externalPackagesLoaded: probe.externalPackages ?? [],
        modulesLoaded: probe.modulesLoaded ?? 0,
        loadMs: stats(samples.get(v.id)!),
        loadPlusFirstUseMs: stats(firstUse.get(v.id)!),
        samplesMs: samples.get(v.id)!.map(round2),
      };
    });
    const byId = new Map(results.map((r) => [r.id, r]));

    const ratios: Results['ratios'] = {};
    const checks: BudgetCheck[] = [];
    for (const name of HANDLER_NAMES) {
      const ours = byId.get(`${name}:project`)!;
      const dflt = byId.get(`${name}:default`)!;
      const earlier = byId.get(`${name}:before`)!;
      const ratio = round2(ours.loadMs.median / earlier.loadMs.median);
      ratios[name] = {
        projectMedianMs: ours.loadMs.median,
        defaultMedianMs: earlier.loadMs.median,
        ratio,
        sameSourceDefaultMedianMs: dflt.loadMs.median,
        ratioToSameSourceDefault: round2(ours.loadMs.median / dflt.loadMs.median),
        loadPlusFirstUseRatio: round2(ours.loadPlusFirstUseMs.median / earlier.loadPlusFirstUseMs.median),
      };
      checks.push({ handler: name, criterion: 'bundle bytes <= 250,000', value: ours.bytes, limit: BUDGET.maxBundleBytes, pass: ours.bytes <= BUDGET.maxBundleBytes });
      checks.push({ handler: name, criterion: 'median module load ms <= 60', value: ours.loadMs.median, limit: BUDGET.maxMedianLoadMs, pass: ours.loadMs.median <= BUDGET.maxMedianLoadMs });
      checks.push({ handler: name, criterion: 'median load / earlier handler, default bundling <= 0.6', value: ratio, limit: BUDGET.maxRatioToDefault, pass: ratio <= BUDGET.maxRatioToDefault });
    }

    // Optional CPU profiles of the project bundles.
    let profiles: ProfileResult[] | undefined;
    if (values.profile) {
      const dir = path.resolve(values.profile);
      fs.mkdirSync(dir, { recursive: true });
      profiles = [];
      for (const v of variants.filter((x) => x.bundling === 'project')) {
        const name = `${v.id.replace(/[^A-Za-z0-9_-]/g, '-')}.cpuprofile`;
        fs.rmSync(path.join(dir, name), { force: true });
        const report = spawnChild(v, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`, '--cpu-prof-interval=100']);
        profiles.push(summarizeProfile(v, path.join(dir, name), report));
      }
    }

    const staleWarnings = [
      ...staleBundles(projectSources),
      ...projectFiles.filter((f) => fingerprint(f) !== before.get(f))
        .map((f) => `${path.relative(ROOT, f)} changed during the run (rebuilt?): its samples mix two builds; run again`),
    ];
    const notes = [
      `Measured with node ${process.version} on ${process.platform}-${process.arch}; the functions run node 22 on arm64 (Graviton): compare variants with each other, not with Lambda's absolute figures.`,
      'Module load only: the require() of the bundle in a fresh process; process start-up, the runtime client and the first invocation are not counted.',
      `External @aws-sdk/* resolve from ${path.join(ROOT, 'node_modules')} (standing in for /var/runtime/node_modules, the SDK the runtime bundles; its version may differ).`,
      `NODE_OPTIONS of the children: '${nodeOptions}'${nodeOptions.includes('--enable-source-maps') ? ' (as the construct sets it: a bundle with a sourceMappingURL has its .map read and parsed at load)' : ''}.`,
      `The budgeted ratio is median(project bundle) / median(the handler at ${values.before ?? BEFORE_REF}, as issue #12 measured it, bundled the NodejsFunction default way, `
        + 'with the NODE_OPTIONS the construct set then); ratioToSameSourceDefault compares with the current source bundled the default way (what bundling alone changes).',
      'load + first use adds the time to require the SDK and Powertools modules a first request loads (FIRST_USE_MODULES): the project bundles leave them to first use, '
        + 'so that figure is the honest one for a first request; the module load alone is what the budget names.',
      'The empty variant is the floor of any require().',
    ];

    const summary: Results = {
      command: `npx ts-node --project tsconfig.dev.json bench/cold-start.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
      date: new Date().toISOString(),
      machine: {
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        cpus: os.cpus().length,
        loadavgBefore: loadavgBefore.map(round2),
        loadavgAfter: os.loadavg().map(round2),
        memoryMiB: Math.round(os.totalmem() / 1024 / 1024),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      },
      notes,
      runs,
      defaultBundling: {
        esbuild: esbuildVersion,
        command: `esbuild --bundle <entry> --target=${NODEJS_FUNCTION_DEFAULT.target} --platform=${NODEJS_FUNCTION_DEFAULT.platform} --format=${NODEJS_FUNCTION_DEFAULT.format} --outfile=<tmp>/index.js `
          + NODEJS_FUNCTION_DEFAULT.external.map((e) => `--external:${e}`).join(' '),
        bundledPackages,
      },
      projectBundling: { commands: projectBundleCommands(), staleWarnings },
      childEnv: {
        optDir,
        nodePath,
        nodeOptions,
        layerFiles: values['opt-dir'] ? [] : Object.keys(LAYER_FILES),
        variables: childVariables,
      },
      variants: results,
      ratios,
      budget: { limits: BUDGET, checks, pass: checks.every((c) => c.pass) },
      ...(profiles ? { profiles } : {}),
    };
    const out = path.resolve(values.out);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(summary, null, 2) + '\n');

    printTable(summary);
    for (const w of staleWarnings) process.stdout.write(`bench: WARNING: ${w}\n`);
    process.stdout.write(`bench: written to ${path.relative(process.cwd(), out)}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The handlers' source at `ref` (git archive), bundled the NodejsFunction default way into
 * <work>/before/<handler>/index.js; the packages that source used and the project has dropped are
 * installed once into .tmp/cold-start-before-deps.
 */
function buildBefore(work: string, ref: string): string {
  const src = path.join(work, 'before-src');
  fs.mkdirSync(src, { recursive: true });
  const archive = spawnSync('sh', ['-c', `git -C "${ROOT}" archive "${ref}" src | tar -x -C "${src}"`], { encoding: 'utf8' });
  if (archive.status !== 0) throw new Error(`cannot read src/ at ${ref} from git: ${archive.stderr}`);
  const deps = path.join(ROOT, '.tmp', 'cold-start-before-deps');
  if (!BEFORE_EXTRA_PACKAGES.every((p) => fs.existsSync(path.join(deps, 'node_modules', p.slice(0, p.lastIndexOf('@')), 'package.json')))) {
    fs.mkdirSync(deps, { recursive: true });
    const install = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--ignore-scripts', '--prefix', deps, ...BEFORE_EXTRA_PACKAGES], { encoding: 'utf8' });
    if (install.status !== 0) throw new Error(`npm install of ${BEFORE_EXTRA_PACKAGES.join(' ')} failed: ${install.stderr}`);
  }
  const out = path.join(work, 'before');
  for (const name of HANDLER_NAMES) {
    const result = buildSync({
      entryPoints: [path.join(src, HANDLERS[name].entry)],
      bundle: true,
      outfile: path.join(out, name, 'index.js'),
      absWorkingDir: ROOT,
      nodePaths: [path.join(deps, 'node_modules'), path.join(ROOT, 'node_modules')],
      ...NODEJS_FUNCTION_DEFAULT,
      external: [...NODEJS_FUNCTION_DEFAULT.external],
      logLevel: 'silent',
    });
    if (result.errors.length > 0) throw new Error(`esbuild of ${HANDLERS[name].entry} at ${ref}: ${result.errors.map((e) => e.text).join('; ')}`);
  }
  return out;
}

/** CHILD_ENV with `{opt}` and `{sha256:<file>}` replaced. */
function resolvePlaceholders(optDir: string): Record<'lambda' | 'construct' | HandlerName, Record<string, string>> {
  const sha256Of = (key: string, file: string): string => {
    if (!fs.existsSync(file)) throw new Error(`CHILD_ENV.${key} wants the SHA-256 of ${file}, which does not exist (see LAYER_FILES and --opt-dir)`);
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  };
  const resolve = (section: Readonly<Record<string, string>>): Record<string, string> => Object.fromEntries(Object.entries(section).map(
    ([key, value]) => [key, value.split('{opt}').join(optDir).replace(/\{sha256:([^}]+)\}/g, (_, file: string) => sha256Of(key, file))],
  ));
  return {
    lambda: resolve(CHILD_ENV.lambda),
    construct: resolve(CHILD_ENV.construct),
    controller: resolve(CHILD_ENV.handlers.controller),
    api: resolve(CHILD_ENV.handlers.api),
  };
}

/**
 * The child: times the require() of argv[2], then prints one marked JSON line and exits (a loaded handler
 * may hold the event loop open). Plain JS, written into the temp dir so that the child loads nothing else first.
 */
const RUNNER_SOURCE = `'use strict';
const bundle = process.argv[2];
let error;
const before = process.hrtime.bigint();
try {
  require(bundle);
} catch (e) {
  error = e;
}
const after = process.hrtime.bigint();
const bundleDir = require('path').dirname(bundle);
const external = new Set();
for (const file of Object.keys(require.cache)) {
  if (file.startsWith(bundleDir + require('path').sep) && !file.includes('node_modules')) continue;
  const m = /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(file.slice(file.lastIndexOf('node_modules')));
  if (m) external.add(m[1].replace(/\\\\/g, '/'));
}
const modulesLoaded = Object.keys(require.cache).length;
const firstUse = JSON.parse(process.env.BENCH_FIRST_USE || '[]');
const firstUseStart = process.hrtime.bigint();
for (const id of firstUse) { try { require(id); } catch (e) { error = error || e; } }
const firstUseMs = Number(process.hrtime.bigint() - firstUseStart) / 1e6;
const report = error === undefined
  ? { ms: Number(after - before) / 1e6, firstUseMs, startUs: Number(before / 1000n), endUs: Number(after / 1000n), externalPackages: [...external].sort(), modulesLoaded }
  : { error: String((error && error.stack) || error) };
require('fs').writeSync(1, '\\n${MARKER}' + JSON.stringify(report) + '\\n');
process.exit(0);
`;

// --- CPU profiles ---

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Maps a (line, column) of a bundle to the original source file, by whichever means the bundle allows. */
interface PositionMapper {
  readonly kind: ProfileResult['mappedWith'];
  source(line: number, column: number): { file: string; line: number } | undefined;
}

function summarizeProfile(variant: Variant, file: string, report: ChildReport): ProfileResult {
  if (!fs.existsSync(file)) throw new Error(`${variant.id}: node --cpu-prof wrote no ${file}`);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
  const bundleUrl = `file://${variant.bundlePath}`;
  const mapper = positionMapper(variant.bundlePath);

  // Sample i lasts until sample i+1 (the DevTools convention); only samples inside the require() count.
  const useWindow = report.startUs !== undefined && report.endUs !== undefined
    && report.startUs >= profile.startTime && report.endUs <= profile.endTime;
  const from = useWindow ? report.startUs! : profile.startTime;
  const to = useWindow ? report.endUs! : profile.endTime;
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const start = times[i];
    const end = i + 1 < times.length ? times[i + 1] : profile.endTime;
    const overlap = Math.min(end, to) - Math.max(start, from);
    if (overlap > 0) selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + overlap);
  }

  /** Package (or project file) and source position of a frame; `user` when it is code of the bundle or of a package. */
  const described = new Map<number, { group: string; source: string; user: boolean }>();
  const describe = (id: number): { group: string; source: string; user: boolean } => {
    if (!described.has(id)) described.set(id, describeFrame(id));
    return described.get(id)!;
  };
  function describeFrame(id: number): { group: string; source: string; user: boolean } {
    const { functionName, url, lineNumber, columnNumber } = nodes.get(id)!.callFrame;
    if (!url) {
      const group = functionName.startsWith('(') ? `v8 ${functionName}` : '(native)';
      return { group, source: group, user: false };
    }
    if (url.startsWith('node:')) return { group: url, source: `${url}:${lineNumber + 1}`, user: false };
    if (url === bundleUrl) {
      const original = mapper.source(lineNumber, columnNumber);
      if (!original) {
        // The bundle's top level and esbuild's __commonJS/__esm wrappers (V8 counts here the lazy compile of the module a
        // wrapper starts), which the map does not cover.
        return { group: '(bundle: top level and esbuild module wrappers)', source: `${path.basename(variant.bundlePath)}:${lineNumber + 1}:${columnNumber + 1}`, user: true };
      }
      return { group: packageOf(original.file) ?? `(project) ${original.file}`, source: `${original.file}:${original.line + 1}`, user: true };
    }
    const pkg = packageOf(url);
    const plain = url.replace(/^file:\/\//, '');
    // The measuring child's own frame: all it does in the window is require() the bundle (resolve, read, compile).
    if (!pkg && path.basename(plain) === RUNNER_FILE) return { group: RUNNER_GROUP, source: RUNNER_FILE, user: true };
    return { group: pkg ? `${pkg} (external)` : plain, source: `${plain.replace(/^.*node_modules\//, '')}:${lineNumber + 1}`, user: true };
  }

  const isRequire = (id: number): boolean => {
    const { functionName, url } = nodes.get(id)!.callFrame;
    return url === 'node:internal/modules/cjs/loader' && functionName === 'Module._load';
  };
  /** The first bundle or package frame under a Module._load (breadth first): the top level of the module it loads. */
  const loadedModules = new Map<number, number | undefined>();
  const moduleLoadedBy = (load: number): number | undefined => {
    if (!loadedModules.has(load)) {
      let found: number | undefined;
      const queue = [...(nodes.get(load)!.children ?? [])];
      while (queue.length > 0 && found === undefined) {
        const next = queue.shift()!;
        if (describe(next).user) found = next;
        else queue.push(...(nodes.get(next)!.children ?? []));
      }
      loadedModules.set(load, found);
    }
    return loadedModules.get(load);
  };

  const self = new Map<string, number>();
  const withLoads = new Map<string, number>();
  const functions = new Map<string, { function: string; source: string; us: number }>();
  for (const [id, us] of selfUs) {
    const d = describe(id);
    self.set(d.group, (self.get(d.group) ?? 0) + us);
    // The same time, node internals charged to code: walking up, the first bundle or package frame (the code that
    // called them), or the first require() on the way (Module._load), charged to the module it loads (its resolve,
    // read and compile), found as the first bundle or package frame under it.
    let ownerGroup = d.group;
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      if (describe(at).user) {
        ownerGroup = describe(at).group;
        break;
      }
      const loaded = isRequire(at) ? moduleLoadedBy(at) : undefined;
      if (loaded !== undefined) {
        ownerGroup = nodes.get(loaded)!.callFrame.url === bundleUrl ? RUNNER_GROUP : describe(loaded).group;
        break;
      }
    }
    withLoads.set(ownerGroup, (withLoads.get(ownerGroup) ?? 0) + us);
    const name = nodes.get(id)!.callFrame.functionName || '(anonymous)';
    const key = `${name}@${d.source}`;
    const f = functions.get(key) ?? { function: name, source: d.source, us: 0 };
    f.us += us;
    functions.set(key, f);
  }
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const top = (groups: Map<string, number>): ProfileGroup[] => [...groups].sort((a, b) => b[1] - a[1]).slice(0, PROFILE_TOP)
    .map(([group, us]) => ({ group, selfMs: round2(us / 1000), percent: round2((100 * us) / totalUs) }));
  return {
    variant: variant.id,
    file,
    window: useWindow ? 'require' : 'process',
    windowMs: round2((to - from) / 1000),
    mappedWith: mapper.kind,
    byPackage: top(self),
    byPackageWithLoads: top(withLoads),
    topFunctions: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, PROFILE_TOP)
      .map((f) => ({ function: f.function, source: f.source, selfMs: round2(f.us / 1000) })),
  };
}

/** Through index.js.map beside the bundle if any, else esbuild's `// path` module comments, else nothing. */
function positionMapper(bundlePath: string): PositionMapper {
  const mapFile = `${bundlePath}.map`;
  if (fs.existsSync(mapFile)) {
    const map = JSON.parse(fs.readFileSync(mapFile, 'utf8')) as { sources: string[]; sourceRoot?: string; mappings: string };
    const base = path.resolve(path.dirname(bundlePath), map.sourceRoot ?? '');
    const sources = map.sources.map((s) => path.relative(ROOT, path.resolve(base, s)).split(path.sep).join('/'));
    const lines = decodeMappings(map.mappings);
    return {
      kind: 'source map',
      source(line, column) {
        const segs = lines[line];
        if (!segs || segs.columns.length === 0) return undefined;
        // Last segment starting at or before the column.
        let lo = 0;
        let hi = segs.columns.length - 1;
        if (segs.columns[0] > column) return undefined;
        while (lo < hi) {
          const mid = Math.ceil((lo + hi) / 2);
          if (segs.columns[mid] <= column) lo = mid;
          else hi = mid - 1;
        }
        return segs.sources[lo] < 0 ? undefined : { file: sources[segs.sources[lo]], line: segs.lines[lo] };
      },
    };
  }
  // A non-minified esbuild bundle starts each module with a `// <path relative to the cwd>` comment line.
  const code = fs.readFileSync(bundlePath, 'utf8').split('\n');
  const marks: Array<{ line: number; file: string }> = [];
  code.forEach((text, i) => {
    const m = /^\/\/ ((?:node_modules|src|\.\.?)\/\S+\.[cm]?[jt]sx?)$/.exec(text);
    if (m) marks.push({ line: i, file: m[1] });
  });
  if (marks.length === 0) return { kind: 'none', source: () => undefined };
  return {
    kind: 'module comments',
    source(line) {
      let found: { line: number; file: string } | undefined;
      for (const m of marks) {
        if (m.line > line) break;
        found = m;
      }
      return found ? { file: found.file, line: line - found.line - 1 } : undefined;
    },
  };
}

/** Source-map v3 `mappings`, per generated line: generated columns with their source index and source line. */
function decodeMappings(mappings: string): Array<{ columns: Int32Array; sources: Int32Array; lines: Int32Array }> {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const digit = new Int8Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) digit[B64.charCodeAt(i)] = i;
  const out: Array<{ columns: Int32Array; sources: Int32Array; lines: Int32Array }> = [];
  let source = 0;
  let srcLine = 0;
  let pos = 0;
  const vlq = (): number => {
    // Base64 digits of 5 value bits, least significant first; bit 6 (32) says another digit follows; the lowest
    // value bit is the sign. Arithmetic instead of bit operators (the lint forbids them).
    let result = 0;
    let scale = 1;
    for (;;) {
      const d = digit[mappings.charCodeAt(pos++)];
      result += (d % 32) * scale;
      scale *= 32;
      if (d < 32) break;
    }
    const magnitude = Math.floor(result / 2);
    return result % 2 ? -magnitude : magnitude;
  };
  for (const lineText of mappings.split(';')) {
    const columns: number[] = [];
    const sources: number[] = [];
    const lines: number[] = [];
    let column = 0;
    if (lineText) {
      const end = pos + lineText.length;
      while (pos < end) {
        column += vlq();
        let src = -1;
        if (pos < end && mappings[pos] !== ',') {
          source += vlq();
          srcLine += vlq();
          vlq(); // source column
          if (pos < end && mappings[pos] !== ',') vlq(); // name
          src = source;
        }
        columns.push(column);
        sources.push(src);
        lines.push(srcLine);
        if (mappings[pos] === ',') pos++;
      }
    }
    pos++; // the ';'
    out.push({ columns: Int32Array.from(columns), sources: Int32Array.from(sources), lines: Int32Array.from(lines) });
  }
  return out;
}

// --- helpers ---

/** `@scope/name` or `name` of the last `node_modules/` in a path or URL, undefined outside node_modules. */
function packageOf(p: string): string | undefined {
  const i = p.lastIndexOf('node_modules/');
  if (i < 0) return undefined;
  const parts = p.slice(i + 'node_modules/'.length).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

function looksMinified(code: string): boolean {
  const lines = code.split('\n').length;
  return code.length / Math.max(1, lines) > 500;
}

/** The esbuild command of each handler's bundle task, as .projen/tasks.json has it now. */
function projectBundleCommands(): Partial<Record<HandlerName, string>> {
  const out: Partial<Record<HandlerName, string>> = {};
  try {
    const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8')) as {
      tasks: Record<string, { steps?: Array<{ exec?: string; execArgs?: string[] }> }>;
    };
    for (const name of HANDLER_NAMES) {
      const task = tasks.tasks[`bundle:${HANDLERS[name].bundle.replace(/^assets\//, '').replace(/\/index\.js$/, '')}`];
      const step = task?.steps?.find((s) => s.exec ?? s.execArgs);
      if (step) out[name] = step.exec ?? step.execArgs!.join(' ');
    }
  } catch {
    // No tasks file: nothing to record.
  }
  return out;
}

/** A warning per project bundle older than a project file it is built from (then it may not be what src/ builds now). */
function staleBundles(sources: Record<HandlerName, string[]>): string[] {
  return HANDLER_NAMES.flatMap((name) => {
    const built = fs.statSync(path.join(ROOT, HANDLERS[name].bundle)).mtimeMs;
    const newer = sources[name].filter((f) => fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).mtimeMs > built);
    return newer.length === 0 ? [] : [`${HANDLERS[name].bundle} is older than ${newer.slice(0, 3).join(', ')}${newer.length > 3 ? ` and ${newer.length - 3} more` : ''}`
      + ': run `npx projen bundle` to measure what src/ builds now'];
  });
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return {
    median: round2(median),
    p90: round2(sorted[Math.min(n - 1, Math.ceil(0.9 * n) - 1)]),
    min: round2(sorted[0]),
    max: round2(sorted[n - 1]),
    mean: round2(sorted.reduce((a, b) => a + b, 0) / n),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function printTable(r: Results): void {
  const w = (s: string, n: number) => s.padEnd(n);
  const num = (x: number, n: number) => x.toLocaleString('en-US').padStart(n);
  const ms = (x: number, n: number) => x.toFixed(1).padStart(n);
  const lines = [
    `bench: ${r.runs} runs per variant, ${r.machine.cpus} x ${r.machine.cpuModel}, node ${r.machine.node}, load ${r.machine.loadavgBefore.join(' ')} -> ${r.machine.loadavgAfter.join(' ')}`,
    `${w('variant', 20)}${'bytes'.padStart(11)}${'median'.padStart(9)}${'p90'.padStart(8)}${'min'.padStart(8)}${'ratio'.padStart(8)}${'+1st use'.padStart(10)}  external packages at load`,
  ];
  for (const v of r.variants) {
    const ratio = v.bundling === 'project' && v.handler ? r.ratios[v.handler]?.ratio.toFixed(2) ?? '' : '';
    const ext = v.externalPackagesLoaded.length ? `${v.externalPackagesLoaded.length} (${v.externalPackagesLoaded.slice(0, 4).join(', ')}${v.externalPackagesLoaded.length > 4 ? ', ...' : ''})` : '-';
    lines.push(`${w(v.id, 20)}${num(v.bytes, 11)}${ms(v.loadMs.median, 9)}${ms(v.loadMs.p90, 8)}${ms(v.loadMs.min, 8)}${ratio.padStart(8)}${ms(v.loadPlusFirstUseMs.median, 10)}  ${ext}`);
  }
  for (const [handler, x] of Object.entries(r.ratios)) {
    lines.push(`${handler}: ratio to the earlier handler (default bundling) ${x!.ratio}; to the same source bundled the default way ${x!.ratioToSameSourceDefault}; `
      + `load + first use, to the earlier handler ${x!.loadPlusFirstUseRatio}`);
  }
  lines.push(`budget: ${r.budget.pass ? 'PASS' : 'FAIL'}`);
  for (const c of r.budget.checks) lines.push(`  ${c.pass ? 'pass' : 'FAIL'}  ${w(c.handler, 11)} ${w(c.criterion, 52)} ${c.value.toLocaleString('en-US')} (limit ${c.limit.toLocaleString('en-US')})`);
  for (const p of r.profiles ?? []) {
    lines.push(`profile ${p.variant}: ${p.windowMs} ms (${p.window === 'require' ? 'the require() only' : 'whole process'}), positions mapped with ${p.mappedWith}; ${p.file}`);
    lines.push('  self time by package:');
    for (const g of p.byPackage) lines.push(`    ${ms(g.selfMs, 7)} ms ${g.percent.toFixed(1).padStart(5)}%  ${g.group}`);
    lines.push('  the same, with node internals charged: a require()\'s resolve/read/compile to the module loaded, the rest to its caller:');
    for (const g of p.byPackageWithLoads) lines.push(`    ${ms(g.selfMs, 7)} ms ${g.percent.toFixed(1).padStart(5)}%  ${g.group}`);
    lines.push('  top functions:');
    for (const f of p.topFunctions) lines.push(`    ${ms(f.selfMs, 7)} ms  ${f.function}  ${f.source}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench: FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);

import * as fs from 'fs';
import * as path from 'path';
import { javascript } from 'projen';

/** Options for {@link addLambdaBundles}. */
export interface LambdaBundleOptions {
  /** esbuild target, e.g. `node22` (the Lambda runtime the constructs deploy). */
  readonly target: string;
  /** Folder searched for handlers. @default 'src' */
  readonly srcdir?: string;
}

/**
 * Finds every `src/**\/handlers/*.lambda.ts` (and every reference agent) and bundles it with esbuild into
 * `assets/<path>/index.js` (minified, with a source map) when the library is built,
 * so that users of the library need neither esbuild nor Docker to synthesize.
 *
 * The bundles run before tests (the constructs under test reference them) and in
 * `pre-compile` (so the npm package ships them).
 */
export function addLambdaBundles(project: javascript.NodeProject, options: LambdaBundleOptions): string[] {
  const srcdir = options.srcdir ?? 'src';
  const entries = [...findHandlers(path.join(project.outdir, srcdir)), ...findAgents(path.join(project.outdir, 'agents'))]
    .map((abs) => path.relative(project.outdir, abs).split(path.sep).join('/'))
    .sort();

  for (const entry of entries) {
    const handler = entry.startsWith(`${srcdir}/`);
    const bundle = project.bundler.addBundle(entry, {
      platform: 'node',
      target: options.target,
      format: 'cjs',
      minify: true,
      sourcemap: true,
      sourceMapMode: javascript.SourceMapMode.DEFAULT,
      watchTask: false,
      // Lambda handlers use the AWS SDK v3 of the Lambda runtime (as NodejsFunction does by default):
      // bundling it made up three quarters of each handler and most of its module load, against a
      // budget of 250 KB and 60 ms. The commands used are long-standing ones, and the runtimes that
      // support durable functions carry an SDK with the durable execution APIs (they ship the durable
      // SDK, which calls them). The durable SDK itself stays bundled, as AWS advises for production.
      // The reference agents run in containers without that SDK: everything is bundled for them.
      externals: handler ? ['@aws-sdk/*'] : [],
      // Maps name original files and lines but leave the sources out: a stack trace still points
      // into src/, and the shipped package stays a few MB instead of tens. Third-party license
      // notices go to index.js.LEGAL.txt beside the bundle.
      // --keep-names: stack traces name functions and classes without a source map.
      esbuildArgs: { '--sources-content': 'false', '--legal-comments': 'linked', '--keep-names': true },
    });
    if (!handler) {
      // The agent's image build context in the package: its bundle and this Dockerfile, nothing else
      // (AgentImage.fromReferenceAgent builds it from the installed package).
      bundle.bundleTask.exec(`cp agents/Dockerfile.bundled ${path.posix.dirname(bundle.outfile)}/Dockerfile`);
    }
  }
  // Tests synthesize constructs that point at these assets.
  project.testTask.prependSpawn(project.bundler.bundleTask);
  return entries;
}

/**
 * The reference agents' entry points (`agents/<name>/src/main.ts`), bundled the same way into
 * `assets/agents/<name>/src/main/index.js`: the local server runs them as processes.
 */
function findAgents(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => path.join(dir, e.name, 'src', 'main.ts'))
    .filter((f) => fs.existsSync(f));
}

function findHandlers(dir: string): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      found.push(...findHandlers(full));
    } else if (entry.name.endsWith('.lambda.ts') && path.basename(dir) === 'handlers') {
      found.push(full);
    }
  }
  return found;
}

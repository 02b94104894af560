/**
 * The three reference agents in one program, for the local server: in worker mode
 * (`CDK_DURABLE_AGENTS_WORKER=stdio`) one process serves the researcher, the analyst and the
 * writer, each task running the agent its envelope names; with `TASK_ENVELOPE`, it runs that one
 * task. Bundled by `npx projen bundle:cli` into `assets/cli/reference-agents/index.js`. Each agent
 * keeps its own entry point (`agents/<name>/src/main.ts`) for its image and its Lambda function.
 */
import { analyst } from './analyst/src/spec';
import { main } from './kit/src';
import { researcher } from './researcher/src/spec';
import { writer } from './writer/src/spec';

export const REFERENCE_AGENT_SPECS = [researcher, analyst, writer] as const;

if (require.main === module) main(REFERENCE_AGENT_SPECS);

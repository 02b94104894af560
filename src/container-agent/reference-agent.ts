import * as fs from 'fs';
import * as path from 'path';

/** The command line of the package (its `bin`): `cdk-durable-agents agent <name>` runs a reference agent. */
const CLI = 'cdk-durable-agents';

/**
 * One of the library's reference agents (`researcher`, `analyst`, `writer`: the agents of
 * `ReferenceWorkflows.researchReport`), shipped in the package ready to run: bundled into one
 * JavaScript file with a Dockerfile beside it, so an app that installed the package (rather than
 * cloning the repository) can deploy them and run them locally.
 *
 * Give one to `AgentImage.fromReferenceAgent()` (Docker builds the image at deploy) or
 * `AgentImage.fromReferenceAgentIntoNewRepository()` (AWS CodeBuild builds it; no Docker on the
 * deploying machine); a `ContainerAgent` with such an image runs the same bundle locally under
 * `cdk-durable-agents dev --app` (its `localCommand` defaults to this agent's).
 */
export class ReferenceAgent {
  /** Gathers what is known about the workflow's `topic` (tuned by `parameters.depth`); writes the `research` artifact. */
  public static readonly RESEARCHER = new ReferenceAgent('researcher');
  /** Reads the `research` artifact; writes the `analysis` artifact. */
  public static readonly ANALYST = new ReferenceAgent('analyst');
  /** Reads the `analysis` artifact and the `topic`; writes the `report` artifact. */
  public static readonly WRITER = new ReferenceAgent('writer');

  /** Every reference agent, in the order of the reference workflow. */
  public static all(): ReferenceAgent[] {
    return [ReferenceAgent.RESEARCHER, ReferenceAgent.ANALYST, ReferenceAgent.WRITER];
  }

  /** The agent's name (`researcher`, `analyst`, `writer`): give it as the `ContainerAgent`'s `agentName`. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * How the local server runs it (`cdk-durable-agents agent <name>`): the same bundle as the
   * image, on this machine's Node.js. The local server runs the package's own copy; in a shell
   * it is `npx cdk-durable-agents agent <name>` with the task in `TASK_ENVELOPE`.
   */
  public get localCommand(): string[] {
    return [CLI, 'agent', this.name];
  }

  /**
   * The image's build context in the installed package: a Dockerfile and the bundled agent
   * (`index.js`, its source map and license notices), nothing else. Throws, naming the fix, when
   * the package was not built (a clone of the repository before `npx projen bundle`).
   */
  public get buildContext(): string {
    const dir = path.join(__dirname, '..', '..', 'assets', 'agents', this.name, 'src', 'main');
    for (const file of ['Dockerfile', 'index.js']) {
      if (!fs.existsSync(path.join(dir, file))) {
        throw new Error(`ReferenceAgent ${this.name}: ${path.join(dir, file)} is missing. The npm package ships it; `
          + 'in a clone of the cdk-durable-agents repository, run `npx projen bundle` first');
      }
    }
    return dir;
  }
}

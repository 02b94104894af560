import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { checkBuiltByFactory } from '../private/closed-class';
import { grantScoped } from '../private/grants';

/** Which kind of model endpoint an agent calls. */
export enum AgentModelProvider {
  /** Amazon Bedrock (Converse API): a foundation model or an inference profile. */
  BEDROCK = 'bedrock',
  /** Any endpoint that speaks the OpenAI chat completions API. */
  OPENAI_COMPATIBLE = 'openai',
}

/** Options for `AgentModel.bedrockInferenceProfile` (`AgentModel.bedrock_inference_profile` in Python). */
export interface BedrockInferenceProfileOptions {
  /**
   * The regions the profile routes to (its destination regions), e.g.
   * `['us-east-1', 'us-east-2', 'us-west-2']`: the foundation model is granted in exactly these
   * (and in the agent's own region). Not for a `global.` profile, which routes to any commercial
   * region and is granted through the region-less model ARN.
   *
   * @default - the foundation model in every region (`arn:...:bedrock:*::foundation-model/<model>`),
   *   under the condition `bedrock:InferenceProfileArn` = this profile: the model can be invoked
   *   only through this one profile, and the profile alone decides where a call runs (AWS adds
   *   destination regions to a profile over time; a list written here would then deny the calls
   *   routed to a new one)
   */
  readonly regions?: string[];
}

/** Options for `AgentModel.openAiCompatible` (`AgentModel.open_ai_compatible` in Python). */
export interface OpenAiCompatibleModelOptions {
  /**
   * Base URL of the endpoint, e.g. `https://api.openai.com/v1` (`/chat/completions` is appended).
   * The agent gets it as `OPENAI_BASE_URL`.
   */
  readonly endpoint: string;
  /** The model name the endpoint serves, e.g. `gpt-4.1-mini`. The agent gets it as `OPENAI_MODEL`. */
  readonly model: string;
  /**
   * The secret that holds the API key (the whole secret string). The agent may read this one
   * secret and nothing else; it gets its ARN as `OPENAI_API_KEY_SECRET_ARN`, and the reference
   * agents' kit reads the key from it at start (as `OPENAI_API_KEY`).
   *
   * @default - no key: the endpoint takes requests without one (e.g. a model server in your VPC)
   */
  readonly apiKey?: secretsmanager.ISecret;
}

/** Environment variables an agent's model settings travel in (what `agents/kit` reads). */
const MODEL_ENV = {
  provider: 'AGENT_MODEL_PROVIDER',
  bedrockModelId: 'BEDROCK_MODEL_ID',
  openAiBaseUrl: 'OPENAI_BASE_URL',
  openAiModel: 'OPENAI_MODEL',
  /** The key's secret: the kit resolves `<name>_SECRET_ARN` into `<name>`. */
  openAiApiKey: 'OPENAI_API_KEY',
} as const;

/** Actions of a model call: Converse and ConverseStream are authorized as these two. */
const INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];

/**
 * Geographic prefixes of Bedrock's cross-region (system-defined) inference profiles. Used only to
 * tell a person who passed a profile id to `AgentModel.bedrock` which factory to use.
 */
const PROFILE_PREFIXES = ['us', 'us-gov', 'eu', 'apac', 'jp', 'au', 'ca', 'global'];

/** `provider.model[:version]`: a foundation model id. */
const MODEL_ID = /^[a-z0-9-]+\.[A-Za-z0-9][\w.:-]*$/;
/** `geo.provider.model[:version]`: a system-defined inference profile id. */
const PROFILE_ID = /^([a-z]+(?:-[a-z]+)*)\.([a-z0-9-]+\.[A-Za-z0-9][\w.:-]*)$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/**
 * A model an agent may call, and how: `AgentModel.bedrock()` (a foundation model),
 * `AgentModel.bedrockInferenceProfile()` (a cross-region inference profile) or
 * `AgentModel.openAiCompatible()` (an endpoint with its key in Secrets Manager). Given to a
 * `ContainerAgent` in `models`, it grants the agent exactly that model (or that one secret), and
 * the first of them becomes the agent's model at run time (`AGENT_MODEL_PROVIDER` and the
 * provider's settings in its environment).
 */
export class AgentModel {
  /**
   * A Bedrock foundation model in the agent's region, invoked on demand: grants
   * `bedrock:InvokeModel` and `bedrock:InvokeModelWithResponseStream` (what Converse and
   * ConverseStream need) on `arn:<partition>:bedrock:<region>::foundation-model/<modelId>`.
   *
   * @param modelId e.g. `amazon.nova-pro-v1:0` (models offered only through inference profiles,
   *   such as Claude 4, need `AgentModel.bedrockInferenceProfile`, `bedrock_inference_profile` in Python)
   */
  public static bedrock(modelId: string): AgentModel {
    const owner = 'AgentModel.bedrock';
    if (!Token.isUnresolved(modelId)) {
      rejectArn(owner, 'modelId', modelId);
      const prefix = modelId.split('.')[0];
      if (modelId.split('.').length > 2 && PROFILE_PREFIXES.includes(prefix)) {
        throw new Error(`${owner}: modelId '${modelId}' is a cross-region inference profile (prefix '${prefix}.'); ` +
          `use AgentModel.bedrockInferenceProfile('${modelId}'), which also grants the model in the regions the profile routes to`);
      }
      if (!MODEL_ID.test(modelId)) {
        throw new Error(`${owner}: modelId '${modelId}' is not a Bedrock model id; give '<provider>.<model>', e.g. 'amazon.nova-pro-v1:0'`);
      }
    }
    return new AgentModel(AgentModelProvider.BEDROCK, modelId, (scope, grantee) => grantScoped(grantee, {
      actions: INVOKE_ACTIONS,
      resources: [foundationModelArn(scope, modelId, undefined)],
    }));
  }

  /**
   * A Bedrock cross-region (system-defined) inference profile, e.g.
   * `us.anthropic.claude-sonnet-4-5-20250929-v1:0` or `global.anthropic.claude-sonnet-4-5-20250929-v1:0`.
   * Grants `bedrock:InvokeModel` and `bedrock:InvokeModelWithResponseStream` on the profile
   * (`arn:<partition>:bedrock:<region>:<account>:inference-profile/<profileId>`) and on its
   * foundation model (the id without the prefix) where the profile may run it, only through
   * this profile (condition `bedrock:InferenceProfileArn`): for a `global.` profile, in the
   * agent's region and as the region-less global model; for a geographic profile, in `regions`
   * (or in every region: see `BedrockInferenceProfileOptions.regions`).
   *
   * @param profileId the inference profile id: `<geography>.<provider>.<model>`
   */
  public static bedrockInferenceProfile(profileId: string, options: BedrockInferenceProfileOptions = {}): AgentModel {
    const owner = 'AgentModel.bedrockInferenceProfile';
    if (Token.isUnresolved(profileId)) {
      throw new Error(`${owner}: profileId must be a literal string (the foundation model it routes to is derived from it), got a token`);
    }
    rejectArn(owner, 'profileId', profileId);
    const match = PROFILE_ID.exec(profileId);
    if (!match) {
      throw new Error(`${owner}: profileId '${profileId}' is not an inference profile id; give '<geography>.<provider>.<model>', ` +
        'e.g. \'us.anthropic.claude-sonnet-4-5-20250929-v1:0\' (a foundation model id goes to AgentModel.bedrock())');
    }
    const [, geography, modelId] = match;
    const global = geography === 'global';
    const regions = options.regions;
    if (regions !== undefined) {
      if (global) {
        throw new Error(`${owner}: regions is set for the global profile '${profileId}'; a global profile routes to any commercial region ` +
          'and is granted through the region-less model ARN: leave regions unset');
      }
      if (regions.length === 0) {
        throw new Error(`${owner}: regions is empty; list the regions the profile routes to (e.g. ['us-east-1', 'us-east-2', 'us-west-2']), or leave it unset`);
      }
      for (const region of regions) {
        if (!Token.isUnresolved(region) && !REGION.test(region)) {
          throw new Error(`${owner}: regions holds '${region}', which is not a region name; use e.g. 'us-east-1'`);
        }
      }
    }
    return new AgentModel(AgentModelProvider.BEDROCK, profileId, (scope, grantee) => {
      const stack = Stack.of(scope);
      const profileArn = stack.formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: profileId });
      const profileGrant = grantScoped(grantee, { actions: INVOKE_ACTIONS, resources: [profileArn] });
      let modelArns: string[];
      if (global) {
        modelArns = [foundationModelArn(scope, modelId, undefined), foundationModelArn(scope, modelId, '')];
      } else if (regions) {
        modelArns = [...new Set([stack.region, ...regions])].map((r) => foundationModelArn(scope, modelId, r));
      } else {
        modelArns = [foundationModelArn(scope, modelId, '*')];
      }
      return profileGrant.combine(grantScoped(grantee, {
        actions: INVOKE_ACTIONS,
        resources: modelArns,
        conditions: { StringEquals: { 'bedrock:InferenceProfileArn': profileArn } },
        wildcardReason: `The inference profile ${profileId} routes each call to a region of its own choosing, and AWS adds regions to a ` +
          'profile over time: the foundation model is granted in any region, but only through this one profile (condition bedrock:InferenceProfileArn).',
      }));
    });
  }

  /**
   * Any endpoint that speaks the OpenAI chat completions API (OpenAI, vLLM, Ollama, LiteLLM, ...).
   * Grants read of the key's secret (and of nothing else), and passes the endpoint, the model
   * name and the secret's ARN to the agent.
   */
  public static openAiCompatible(options: OpenAiCompatibleModelOptions): AgentModel {
    const owner = 'AgentModel.openAiCompatible';
    if (!Token.isUnresolved(options.endpoint)) {
      let url: URL | undefined;
      try {
        url = new URL(options.endpoint);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        throw new Error(`${owner}: endpoint '${options.endpoint}' is not an http(s) URL; give the API's base URL, e.g. 'https://api.openai.com/v1'`);
      }
      if (url.protocol === 'http:' && options.apiKey) {
        throw new Error(`${owner}: endpoint '${options.endpoint}' is plain http and an apiKey is given: the key would cross the network ` +
          'in clear text; use an https endpoint');
      }
    }
    if (!Token.isUnresolved(options.model) && options.model.trim() === '') {
      throw new Error(`${owner}: model is empty; give the model name the endpoint serves, e.g. 'gpt-4.1-mini'`);
    }
    const key = options.apiKey;
    return new AgentModel(AgentModelProvider.OPENAI_COMPATIBLE, options.model, (_scope, grantee) => {
      return key ? key.grantRead(grantee) : iam.Grant.drop(grantee, 'read no API key: the endpoint takes none');
    }, { endpoint: options.endpoint, apiKey: key });
  }

  /** Which kind of endpoint the model is behind. */
  public readonly provider: AgentModelProvider;
  /** The model the agent asks for: a Bedrock model or inference profile id, or the endpoint's model name. */
  public readonly modelId: string;

  private constructor(
    provider: AgentModelProvider,
    modelId: string,
    private readonly grant: (scope: Construct, grantee: iam.IGrantable) => iam.Grant,
    private readonly openAi?: { readonly endpoint: string; readonly apiKey?: secretsmanager.ISecret },
  ) {
    checkBuiltByFactory('AgentModel', provider, 'AgentModel.bedrock(), bedrockInferenceProfile() or openAiCompatible()');
    this.provider = provider;
    this.modelId = modelId;
  }

  /**
   * Grants `grantee` this model (or this endpoint's key), with ARNs in `scope`'s stack.
   * @internal
   */
  public _grant(scope: Construct, grantee: iam.IGrantable): iam.Grant {
    return this.grant(scope, grantee);
  }

  /**
   * The plain environment variables that make this the agent's model.
   * @internal
   */
  public _environment(): Record<string, string> {
    if (this.provider === AgentModelProvider.BEDROCK) {
      return { [MODEL_ENV.provider]: 'bedrock', [MODEL_ENV.bedrockModelId]: this.modelId };
    }
    return { [MODEL_ENV.provider]: 'openai', [MODEL_ENV.openAiBaseUrl]: this.openAi!.endpoint, [MODEL_ENV.openAiModel]: this.modelId };
  }

  /**
   * The secret the agent reads at start, as an environment variable name and a secret.
   * @internal
   */
  public _secrets(): Record<string, secretsmanager.ISecret> {
    return this.openAi?.apiKey ? { [MODEL_ENV.openAiApiKey]: this.openAi.apiKey } : {};
  }
}

/** `arn:<partition>:bedrock:<region>::foundation-model/<id>`; region `undefined` is the stack's, `''` none (a global model). */
function foundationModelArn(scope: Construct, modelId: string, region: string | undefined): string {
  return Stack.of(scope).formatArn({ service: 'bedrock', region, account: '', resource: 'foundation-model', resourceName: modelId });
}

function rejectArn(owner: string, prop: string, value: string): void {
  if (value.startsWith('arn:')) {
    throw new Error(`${owner}: ${prop} '${value}' is an ARN; give the id alone (the ARNs to grant are built from it), e.g. the part after 'foundation-model/' or 'inference-profile/'`);
  }
}

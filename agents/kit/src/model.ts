/**
 * The model call of an agent, behind one interface with three providers, chosen by
 * `AGENT_MODEL_PROVIDER`:
 *
 * - `offline` (default): deterministic, no network; its text says plainly that no model was called.
 * - `bedrock`: Amazon Bedrock Converse API, model `BEDROCK_MODEL_ID`.
 * - `openai`: any OpenAI-compatible endpoint, `POST {OPENAI_BASE_URL}/chat/completions`.
 */
import { createHash } from 'crypto';
import type { BedrockRuntimeClient, ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';

/** The Bedrock client's module, loaded at the first Bedrock call: an agent on another provider never pays for it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadBedrock = (): typeof import('@aws-sdk/client-bedrock-runtime') => require('@aws-sdk/client-bedrock-runtime');

export interface ModelRequest {
  /** Instructions: the agent's role and the shape of its answer. */
  readonly system: string;
  /** The task: the inputs to work on. */
  readonly prompt: string;
  /** Most tokens the answer may have. @default 4096 */
  readonly maxTokens?: number;
  /** Aborts the call (the deadline passed, or the orchestrator gave up on the task). */
  readonly signal?: AbortSignal;
}

export interface ModelResponse {
  readonly text: string;
  /** The provider's name: 'offline', 'bedrock' or 'openai'. */
  readonly provider: string;
  /** The model that answered. */
  readonly model: string;
  /** Tokens of the call, as the provider counted them (the offline provider counts its own; usage.ts). */
  readonly usage?: ModelUsage;
}

/** Tokens of one model call. */
export interface ModelUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/**
 * How the offline provider counts tokens: one per four characters (rounded up), the rule of thumb
 * for English text. Deterministic; no model's tokenizer.
 */
export function offlineTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface ModelProvider {
  readonly name: string;
  complete(request: ModelRequest): Promise<ModelResponse>;
}

/** A model call that failed, or a provider that is not configured. Reported with code `ModelError`. */
export class ModelError extends Error {
  public readonly name = 'ModelError';
}

export const DEFAULT_MAX_TOKENS = 4096;

// ---------------------------------------------------------------------------------------------
// Offline
// ---------------------------------------------------------------------------------------------

/** The sentence every offline answer carries. */
export const OFFLINE_NOTICE = 'Generated offline by the deterministic provider; no model was called.';

/** Model name the offline provider reports. */
export const OFFLINE_MODEL = 'offline-deterministic-v1';

const MAX_LINES_PER_SECTION = 6;

/**
 * Answers without a model: an outline derived from the request alone, so the same request
 * always gives the same text. Its sections are the `## ` headings the system prompt asks for
 * (Summary and Details if it names none); their bullets are the prompt's lines, dealt out in
 * order. The text opens with {@link OFFLINE_NOTICE} and a fingerprint of the request.
 */
export class OfflineProvider implements ModelProvider {
  public readonly name = 'offline';

  public async complete(request: ModelRequest): Promise<ModelResponse> {
    const text = offlineText(request.system, request.prompt);
    const usage = { inputTokens: offlineTokens(request.system) + offlineTokens(request.prompt), outputTokens: offlineTokens(text) };
    return { text, provider: this.name, model: OFFLINE_MODEL, usage };
  }
}

/** The offline provider's text (exported for tests and for agents that want the same outline). */
export function offlineText(system: string, prompt: string): string {
  const fingerprint = createHash('sha256').update(`${system}\n\n${prompt}`).digest('hex').slice(0, 16);
  const requested = [...system.matchAll(/^##\s+(.+?)\s*$/gm)].map((m) => m[1]);
  const sections = requested.length > 0 ? [...new Set(requested)] : ['Summary', 'Details'];
  const material = materialLines(prompt, sections);
  const [first, ...rest] = sections;
  const out: string[] = [
    `> **Offline draft.** ${OFFLINE_NOTICE}`,
    `> Request fingerprint: \`${fingerprint}\` (SHA-256 of the instructions and the prompt).`,
    '',
    `## ${first}`,
    '',
    material.length > 0
      ? `An outline of the ${material.length} line${material.length === 1 ? '' : 's'} of input, starting with: "${material[0]}".`
      : 'The prompt had no content to outline.',
  ];
  const targets = rest.length > 0 ? rest : [first];
  const buckets = targets.map(() => [] as string[]);
  material.forEach((line, i) => buckets[i % targets.length].push(line));
  targets.forEach((title, i) => {
    if (rest.length > 0) out.push('', `## ${title}`);
    out.push('');
    const lines = buckets[i].slice(0, MAX_LINES_PER_SECTION);
    if (lines.length === 0) out.push('- Nothing in the input for this section.');
    for (const line of lines) out.push(`- ${line}`);
    if (buckets[i].length > lines.length) out.push(`- ... and ${buckets[i].length - lines.length} more line(s) of input.`);
  });
  return `${out.join('\n')}\n`;
}

/** Lines the offline provider itself writes: an outline of an offline answer leaves them out. */
const OFFLINE_BOILERPLATE = [
  /^request fingerprint:/i,
  /^offline draft\.?$/i,
  /^an outline of the \d+ lines? of input/i,
  /^the prompt had no content to outline\.$/i,
  /^nothing in the input for this section\.$/i,
  /^\.\.\. and \d+ more line\(s\) of input\.$/i,
];

/** The prompt's distinct lines, without headings, markdown markers, labels and offline boilerplate. */
function materialLines(prompt: string, sections: string[]): string[] {
  const skip = new Set(sections.map((s) => s.toLowerCase()));
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of prompt.split(/\r?\n/)) {
    // Headings of an input document are its structure, not its content.
    if (/^\s*#{1,6}\s/.test(raw)) continue;
    const line = raw.replace(/^\s*(?:#{1,6}\s+|[-*+>]\s+|\d+[.)]\s+)+/, '').replace(/[*_`]/g, '').trim();
    // Separators, comments and labels that introduce the lines after them ("Sources:").
    if (line.length < 3 || /^(?:-{3,}.*|={3,}|<!--.*-->)$/.test(line) || line.endsWith(':')) continue;
    if (line.includes(OFFLINE_NOTICE) || OFFLINE_BOILERPLATE.some((re) => re.test(line))) continue;
    if (skip.has(line.toLowerCase())) continue;
    const clipped = line.length > 200 ? `${line.slice(0, 197)}...` : line;
    if (seen.has(clipped)) continue;
    seen.add(clipped);
    lines.push(clipped);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Amazon Bedrock
// ---------------------------------------------------------------------------------------------

/**
 * Default Bedrock model: Claude Sonnet 4.5 through its global cross-region inference profile
 * (Claude 4 models are invoked through inference profiles, not bare model ids).
 */
export const DEFAULT_BEDROCK_MODEL_ID = 'global.anthropic.claude-sonnet-4-5-20250929-v1:0';

export interface BedrockProviderOptions {
  /** @default BEDROCK_MODEL_ID, or {@link DEFAULT_BEDROCK_MODEL_ID} */
  readonly modelId?: string;
  /** @default a client for AWS_REGION with the default credential chain, made at the first call */
  readonly client?: Pick<BedrockRuntimeClient, 'send'>;
}

/** Amazon Bedrock, Converse API (one system block, one user message). */
export class BedrockProvider implements ModelProvider {
  public readonly name = 'bedrock';
  public readonly modelId: string;
  private client?: Pick<BedrockRuntimeClient, 'send'>;

  constructor(options: BedrockProviderOptions = {}) {
    this.modelId = options.modelId ?? DEFAULT_BEDROCK_MODEL_ID;
    this.client = options.client;
  }

  public async complete(request: ModelRequest): Promise<ModelResponse> {
    let res: ConverseCommandOutput;
    try {
      const { BedrockRuntimeClient: Client, ConverseCommand } = loadBedrock();
      this.client ??= new Client({});
      res = await this.client.send(new ConverseCommand({
        modelId: this.modelId,
        system: [{ text: request.system }],
        messages: [{ role: 'user', content: [{ text: request.prompt }] }],
        inferenceConfig: { maxTokens: request.maxTokens ?? DEFAULT_MAX_TOKENS },
      }), { abortSignal: request.signal });
    } catch (e) {
      const err = e as Error;
      throw new ModelError(`Bedrock Converse with model '${this.modelId}' failed: ${err.name}: ${err.message}`);
    }
    const text = (res.output?.message?.content ?? [])
      .map((block) => ('text' in block && typeof block.text === 'string' ? block.text : ''))
      .join('');
    if (text.trim() === '') {
      throw new ModelError(`Bedrock model '${this.modelId}' returned no text (stop reason: ${res.stopReason ?? 'unknown'})`);
    }
    const counted = res.usage;
    const usage = counted && typeof counted.inputTokens === 'number' && typeof counted.outputTokens === 'number'
      ? { usage: { inputTokens: counted.inputTokens, outputTokens: counted.outputTokens } } : {};
    return { text, provider: this.name, model: this.modelId, ...usage };
  }
}

// ---------------------------------------------------------------------------------------------
// OpenAI-compatible
// ---------------------------------------------------------------------------------------------

export interface OpenAICompatibleProviderOptions {
  /** e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`; `/chat/completions` is appended. */
  readonly baseUrl: string;
  readonly model: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  readonly apiKey?: string;
  /** @default 300000 (five minutes) */
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

/** Any endpoint that speaks the OpenAI chat completions API (OpenAI, vLLM, Ollama, LiteLLM, ...). */
export class OpenAICompatibleProvider implements ModelProvider {
  public readonly name = 'openai';
  private readonly url: string;

  constructor(private readonly options: OpenAICompatibleProviderOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new ModelError(`OPENAI_BASE_URL is not a URL: '${options.baseUrl}' (e.g. https://api.openai.com/v1)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ModelError(`OPENAI_BASE_URL must be http(s), got '${options.baseUrl}'`);
    }
    if (!options.model) throw new ModelError('OPENAI_MODEL is required with AGENT_MODEL_PROVIDER=openai (the model name the endpoint serves)');
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  public async complete(request: ModelRequest): Promise<ModelResponse> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'accept': 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 300_000);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await (this.options.fetchImpl ?? fetch)(this.url, {
        method: 'POST',
        headers,
        signal,
        body: JSON.stringify({
          model: this.options.model,
          messages: [{ role: 'system', content: request.system }, { role: 'user', content: request.prompt }],
          max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
        }),
      });
      text = await res.text();
    } catch (e) {
      const err = e as Error;
      throw new ModelError(`the OpenAI-compatible endpoint ${this.url} could not be reached: ${err.name === 'TimeoutError' ? 'timed out' : err.message}`);
    }
    if (!res.ok) {
      throw new ModelError(`the OpenAI-compatible endpoint ${this.url} answered ${res.status}: ${describeError(text)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ModelError(`the OpenAI-compatible endpoint ${this.url} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    const content = completionText(body);
    if (content === undefined) {
      throw new ModelError(`the OpenAI-compatible endpoint ${this.url} answered without choices[0].message.content: ${text.slice(0, 200)}`);
    }
    if (content.trim() === '') throw new ModelError(`the OpenAI-compatible endpoint ${this.url} returned an empty completion`);
    const model = typeof (body as { model?: unknown }).model === 'string' ? (body as { model: string }).model : this.options.model;
    const counted = (body as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
    const usage = counted && typeof counted.prompt_tokens === 'number' && typeof counted.completion_tokens === 'number'
      ? { usage: { inputTokens: counted.prompt_tokens, outputTokens: counted.completion_tokens } } : {};
    return { text: content, provider: this.name, model, ...usage };
  }
}

function completionText(body: unknown): string | undefined {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const content = (choices[0] as { message?: { content?: unknown } } | null)?.message?.content;
  if (typeof content === 'string') return content;
  // Some servers send content parts: [{ type: 'text', text: '...' }].
  if (Array.isArray(content)) {
    const parts = content.map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : undefined));
    if (parts.every((p) => p !== undefined)) return parts.join('');
  }
  return undefined;
}

function describeError(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (body.error && typeof body.error.message === 'string') return body.error.message;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 300) || '(empty body)';
}

// ---------------------------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------------------------

export const PROVIDER_NAMES = ['offline', 'bedrock', 'openai'] as const;

/** The provider `AGENT_MODEL_PROVIDER` names (`offline` when unset). Throws {@link ModelError} when misconfigured. */
export function providerFromEnv(env: NodeJS.ProcessEnv = process.env): ModelProvider {
  const name = (env.AGENT_MODEL_PROVIDER ?? '').trim().toLowerCase() || 'offline';
  switch (name) {
    case 'offline':
      return new OfflineProvider();
    case 'bedrock':
      return new BedrockProvider({ modelId: env.BEDROCK_MODEL_ID || undefined });
    case 'openai':
      if (!env.OPENAI_BASE_URL) {
        throw new ModelError('OPENAI_BASE_URL is required with AGENT_MODEL_PROVIDER=openai (e.g. https://api.openai.com/v1)');
      }
      return new OpenAICompatibleProvider({
        baseUrl: env.OPENAI_BASE_URL,
        model: env.OPENAI_MODEL ?? '',
        apiKey: env.OPENAI_API_KEY || undefined,
        timeoutMs: positiveNumber(env.OPENAI_TIMEOUT_MS, 'OPENAI_TIMEOUT_MS'),
      });
    default:
      throw new ModelError(`AGENT_MODEL_PROVIDER '${env.AGENT_MODEL_PROVIDER}' is not known: use one of ${PROVIDER_NAMES.join(', ')}`);
  }
}

function positiveNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ModelError(`${name} must be a positive number of milliseconds, got '${value}'`);
  return n;
}

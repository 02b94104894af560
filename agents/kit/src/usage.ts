/**
 * What a task spends on its model: tokens as the provider counts them, and an estimated cost from
 * a small price table. Reported in heartbeats (the figures so far) and in the report (the final
 * ones) as `usage: { input_tokens, output_tokens, estimated_cost_usd, model }`, which the
 * orchestrator adds up per step and per workflow and judges budgets by.
 */
import type { ModelResponse } from './model';

/** The date the prices below were taken from the providers' public price lists. */
export const PRICE_TABLE_DATE = '2025-10-01';

/** US dollars per million tokens. */
export interface Price {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

/**
 * List prices (on-demand, US regions) by a pattern of the model id: Bedrock ids carry a region or
 * `global.` prefix and a version suffix, so a pattern matches all of them. The first match wins.
 * A model not listed has no estimate (`estimated_cost_usd` is left out); set
 * `AGENT_PRICE_INPUT_PER_MTOK` and `AGENT_PRICE_OUTPUT_PER_MTOK` to price it (or to override).
 */
export const PRICE_TABLE: ReadonlyArray<{ readonly pattern: RegExp; readonly price: Price }> = [
  { pattern: /^offline-/, price: { inputPerMillion: 0, outputPerMillion: 0 } },
  { pattern: /anthropic\.claude-sonnet-4/, price: { inputPerMillion: 3, outputPerMillion: 15 } },
  { pattern: /anthropic\.claude-haiku-4-5/, price: { inputPerMillion: 1, outputPerMillion: 5 } },
  { pattern: /anthropic\.claude-opus-4/, price: { inputPerMillion: 15, outputPerMillion: 75 } },
  { pattern: /amazon\.nova-pro/, price: { inputPerMillion: 0.8, outputPerMillion: 3.2 } },
  { pattern: /amazon\.nova-lite/, price: { inputPerMillion: 0.06, outputPerMillion: 0.24 } },
  { pattern: /amazon\.nova-micro/, price: { inputPerMillion: 0.035, outputPerMillion: 0.14 } },
  { pattern: /^gpt-4o-mini/, price: { inputPerMillion: 0.15, outputPerMillion: 0.6 } },
  { pattern: /^gpt-4o/, price: { inputPerMillion: 2.5, outputPerMillion: 10 } },
];

/** The usage body of a heartbeat or report (snake case, as the orchestrator's API takes it). */
export interface UsageBody {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly estimated_cost_usd?: number;
  readonly model?: string;
}

/** The price of `model`: the environment's override, else the table's, else none. */
export function priceOf(model: string, env: NodeJS.ProcessEnv = process.env): Price | undefined {
  const input = env.AGENT_PRICE_INPUT_PER_MTOK;
  const output = env.AGENT_PRICE_OUTPUT_PER_MTOK;
  if (input !== undefined || output !== undefined) {
    const price = { inputPerMillion: Number(input), outputPerMillion: Number(output) };
    if (!(price.inputPerMillion >= 0) || !(price.outputPerMillion >= 0)) {
      throw new Error(`AGENT_PRICE_INPUT_PER_MTOK and AGENT_PRICE_OUTPUT_PER_MTOK must both be numbers of US dollars per million tokens (>= 0), got '${input}' and '${output}'`);
    }
    return price;
  }
  return PRICE_TABLE.find((p) => p.pattern.test(model))?.price;
}

/** Adds up the model calls of one task. */
export class UsageMeter {
  private input = 0;
  private output = 0;
  private cost: number | undefined = 0;
  private model?: string;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /**
   * Counts one answer. An answer without usage counts no tokens, and leaves the cost unknown
   * (`estimated_cost_usd` is left out from then on): its spend cannot be estimated.
   */
  public add(response: Pick<ModelResponse, 'model' | 'usage'>): void {
    this.model = response.model;
    if (!response.usage) {
      this.cost = undefined;
      return;
    }
    const { inputTokens, outputTokens } = response.usage;
    this.input += inputTokens;
    this.output += outputTokens;
    const price = priceOf(response.model, this.env);
    this.cost = price && this.cost !== undefined
      ? this.cost + (inputTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) / 1e6
      : undefined;
  }

  /** The figures so far, or undefined before any model answered. */
  public body(): UsageBody | undefined {
    if (this.model === undefined) return undefined;
    return {
      input_tokens: this.input,
      output_tokens: this.output,
      ...(this.cost !== undefined ? { estimated_cost_usd: Math.round(this.cost * 1e6) / 1e6 } : {}),
      model: this.model,
    };
  }
}

/**
 * The usage text of `cost` and its exit code above --max-fixed: what the command line's help needs,
 * apart from the command itself, which the command line loads only when `cost` runs (the price
 * table, the fixed and variable parts and the durable runner they use are not loaded for others).
 */

/** Exit code of `cost --max-fixed` when the fixed total is above the limit. */
export const EXIT_OVER_BUDGET = 3;

export const COST_USAGE = `  cost --app <cdk.out> [--region r] [--workflows-per-month n] [--step-duration <seconds>] [--json] [--max-fixed <usd>]
            The fixed monthly cost of a synthesized app (per stack and construct) and, for a
            DurableOrchestrator, the variable cost per 1,000 workflows beside Step Functions Standard.
            --max-fixed exits ${EXIT_OVER_BUDGET} when the fixed total is above it`;

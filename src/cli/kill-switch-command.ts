/**
 * `kill-switch on --reason "..."` / `off` / `status`: the kill switch of the local server or of a
 * deployed orchestrator (`./target`, as the workflow commands). Engaging it refuses new workflow
 * starts and cancels every running workflow with the reason; releasing it lets starts through.
 */
import { parseArgs } from 'util';
import { messageOf } from './client';
import { CliError } from './errors';
import type { CliIo } from './main';
import { CLI_NAME } from './progress';
import { gatewayHint, openApi, resolveTarget, TARGET_OPTIONS } from './target';

/** The usage text of the command (part of the command line's USAGE). */
export const KILL_SWITCH_USAGE = `  kill-switch on --reason <text>   Refuse new workflow starts and cancel every running workflow
                                   with this reason (repeat it to cancel what still runs)
  kill-switch off [--reason <text>] Let workflows start again
  kill-switch status               Show whether it is engaged, why, and who set it
            (with --port, --api-url or --stack as the workflow commands; deployed, the caller
            needs orchestrator.grantKillSwitch)`;

interface KillSwitchView {
  readonly engaged: boolean;
  readonly reason: string | null;
  readonly changed_by: string | null;
  readonly changed_at: string | null;
  readonly cancelled_workflows?: number;
}

/** The lines `kill-switch` prints for the switch's state. */
export function killSwitchLines(view: KillSwitchView): string[] {
  if (!view.engaged && view.changed_at === null) return ['kill switch: released (never engaged)'];
  const lines = [`kill switch: ${view.engaged ? 'ENGAGED' : 'released'}${view.reason ? ` (${view.reason})` : ''}`];
  lines.push(`  set by ${view.changed_by ?? 'unknown'} at ${view.changed_at ?? 'unknown'}`);
  if (view.cancelled_workflows !== undefined) lines.push(`  ${view.cancelled_workflows} running workflow(s) are being cancelled`);
  return lines;
}

export async function killSwitchCommand(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { ...TARGET_OPTIONS, reason: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(`kill-switch: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')} (see ${CLI_NAME} help)`);
  }
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (positionals.length !== 1 || !['on', 'off', 'status'].includes(action)) {
    throw new CliError(`kill-switch: give one of on, off or status, e.g. ${CLI_NAME} kill-switch on --reason "runaway costs"`
      + `${positionals.length ? `; got ${positionals.join(' ')}` : ''}`);
  }
  if (action === 'on' && (values.reason === undefined || values.reason.trim() === '')) {
    throw new CliError('kill-switch on: --reason is required: say why everything stops, e.g. --reason "runaway costs"; it is recorded with who engaged it');
  }
  if (action === 'status' && values.reason !== undefined) throw new CliError('kill-switch status: takes no --reason');
  const api = await openApi(resolveTarget(values));
  const res = action === 'status'
    ? await api.call('GET', '/admin/kill-switch')
    : await api.call('PUT', '/admin/kill-switch', { engaged: action === 'on', ...(values.reason !== undefined ? { reason: values.reason } : {}) });
  if (res.status !== 200) {
    // A 401/403 of API Gateway names the grant: GRANT_OF maps this command to grantKillSwitch.
    throw new CliError(`kill-switch ${action}: ${res.status} ${messageOf(res)}${gatewayHint(api, 'kill-switch', res)}`);
  }
  for (const line of killSwitchLines(res.body as KillSwitchView)) io.out(line);
  return 0;
}

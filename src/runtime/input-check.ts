/**
 * The check of a workflow input that `POST /workflows` (and a schedule's tick) runs before anything
 * is written: against the definition's declared input, if it declares one, and for the fields every
 * run's steps read (present, and not blank where they are text). Both homes of the runtime run it
 * through the same API handler.
 */
import { getPath } from './values';
import type { WorkflowDefinitionDocument } from '../contract/definition';
import { checkInputAgainstDeclaration, InputIssue, MAX_INPUT_ISSUES } from '../contract/inputs';

export type { InputIssue };

/** The input fields every run reads, with the first step that reads each (`requiredInputFields`). */
export interface RequiredInputField {
  readonly path: string;
  readonly step: string;
}

/**
 * Every field of `input` the workflow refuses (an empty list when it is accepted): first what does
 * not match the declaration, then the fields a step reads on every run that are missing or blank
 * (unless the declaration already refused them or a field around them).
 */
export function refusedInputFields(definition: WorkflowDefinitionDocument, input: Record<string, unknown>,
  required: readonly RequiredInputField[]): InputIssue[] {
  const issues = definition.inputs ? checkInputAgainstDeclaration(definition.inputs, input) : [];
  const refused = issues.map((i) => i.path);
  for (const { path, step } of required) {
    if (issues.length >= MAX_INPUT_ISSUES) break;
    const at = `input.${path}`;
    if (refused.some((p) => p === at || at.startsWith(`${p}.`))) continue;
    const value = getPath(input, path);
    if (value === undefined || value === null) {
      issues.push({ path: at, code: 'required', message: `field '${path}' is required: step '${step}' reads it` });
    } else if (typeof value === 'string' && value.trim() === '') {
      issues.push({ path: at, code: 'empty', message: `field '${path}' must not be empty: step '${step}' reads it` });
    }
  }
  return issues;
}

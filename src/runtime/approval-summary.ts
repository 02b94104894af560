/**
 * What a person is asked to approve, in a few lines: the newest artifact the workflow produced
 * before its approval step (its key and first lines), for the `approval_requested` event and the
 * notification built from it. Read inside the controller's durable step that requests the approval.
 */
import type { ArtifactStore } from './ports';

/** Lines of the artifact shown at most. */
export const SUMMARY_LINES = 12;
/** Characters of the artifact shown at most. */
export const SUMMARY_CHARS = 1200;

/** The summary in the event's detail (snake case, as the events are). */
export interface ApprovalSummary {
  /** The artifact's name in its step's report and its key in the artifact store. */
  readonly artifact: string;
  readonly artifact_key: string;
  /** The step that produced it. */
  readonly step_name: string;
  /** Its first lines (UTF-8 text), or null when it could not be read as text. */
  readonly excerpt: string | null;
  /** Whether the artifact goes on past the excerpt. */
  readonly truncated: boolean;
}

/**
 * The summary of the newest artifact among the steps' outputs (`{ artifacts: { name: key } }`),
 * or undefined when no step has reported one. A read that fails leaves the excerpt null: the
 * summary never stops an approval from being requested.
 */
export async function approvalSummary(artifacts: ArtifactStore, outputs: Readonly<Record<string, unknown>>): Promise<ApprovalSummary | undefined> {
  let found: { step: string; name: string; key: string } | undefined;
  for (const [step, output] of Object.entries(outputs)) {
    const named = (output as { artifacts?: unknown } | null)?.artifacts;
    if (named === null || typeof named !== 'object') continue;
    const first = Object.entries(named as Record<string, unknown>).find(([, key]) => typeof key === 'string' && key !== '');
    if (first) found = { step, name: first[0], key: first[1] as string };
  }
  if (!found) return undefined;
  let excerpt: string | null = null;
  let truncated = false;
  try {
    const body = await artifacts.get(found.key);
    if (body !== undefined) {
      const text = Buffer.from(body).toString('utf8');
      if (!text.includes('\u0000')) {
        const lines = text.split(/\r?\n/);
        let head = lines.slice(0, SUMMARY_LINES).join('\n');
        truncated = lines.length > SUMMARY_LINES;
        if (head.length > SUMMARY_CHARS) {
          head = head.slice(0, SUMMARY_CHARS);
          truncated = true;
        }
        excerpt = head;
      }
    }
  } catch {
    excerpt = null;
  }
  return { artifact: found.name, artifact_key: found.key, step_name: found.step, excerpt, truncated };
}

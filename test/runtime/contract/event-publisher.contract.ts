import { randomUUID } from 'crypto';
import type { EventPublisher, WorkflowEvent } from '../../../src/runtime/ports';

/** An event as a consumer of the publisher's destination sees it, mapped back to the port's fields. */
export interface ObservedEvent {
  readonly type: string;
  readonly workflowId: string;
  readonly stepName?: string;
  readonly detail: Record<string, unknown>;
  /** The event's time as the destination keeps it (possibly to the second only). */
  readonly time: string;
}

export interface EventPublisherSetup {
  readonly publisher: EventPublisher;
  /** Everything delivered so far. Delivery may lag: the suite polls. */
  observed(): Promise<ObservedEvent[]>;
}

/** The EventPublisher contract: what a consumer of the destination can observe. */
export function eventPublisherContract(makeSetup: () => Promise<EventPublisherSetup>, options: { pollMs?: number } = {}): void {
  let setup: EventPublisherSetup;
  let workflowId: string;
  const deadlineMs = options.pollMs ?? 5_000;

  beforeEach(async () => {
    setup = await makeSetup();
    workflowId = `wf-${randomUUID()}`;
  });

  /** The observed events of this test's workflow, once `count` of them have arrived (or the deadline passed). */
  const observe = async (count: number) => {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const mine = (await setup.observed()).filter((e) => e.workflowId === workflowId);
      if (mine.length >= count || Date.now() > until) return mine;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const events = (): WorkflowEvent[] => [
    { type: 'Workflow Started', workflowId, detail: { definition: 'research-report', input_keys: ['topic'] }, time: '2024-05-01T10:00:00.000Z' },
    { type: 'Workflow Step Started', workflowId, stepName: 'research', detail: { attempt: 1, agent: 'researcher' }, time: '2024-05-01T10:00:01.000Z' },
    { type: 'Workflow Step Completed', workflowId, stepName: 'research', detail: { status: 'SUCCEEDED', nested: { ok: true, n: 1.5 } }, time: '2024-05-01T10:05:00.000Z' },
  ];

  test('every published event is delivered once, with its type, workflow, step, detail and time', async () => {
    const published = events();
    for (const e of published) await setup.publisher.publish(e);
    const seen = await observe(published.length);
    expect(seen).toHaveLength(published.length);
    for (const e of published) {
      const match = seen.filter((o) => o.type === e.type);
      expect(match).toHaveLength(1);
      const [o] = match;
      expect(o.stepName).toBe(e.stepName);
      expect(o.detail).toEqual(e.detail);
      expect(Number.isNaN(Date.parse(o.time))).toBe(false);
      expect(Math.abs(Date.parse(o.time) - Date.parse(e.time))).toBeLessThan(1000);
    }
  });

  test('an event whose detail JSON cannot hold is refused and nothing is delivered', async () => {
    const bad = { type: 'Workflow Failed', workflowId, detail: { size: BigInt(1) }, time: '2024-05-01T10:00:00.000Z' } as unknown as WorkflowEvent;
    await expect(setup.publisher.publish(bad)).rejects.toThrow();
    // a good one after it still goes through, and is the only one delivered
    await setup.publisher.publish(events()[0]);
    const seen = await observe(1);
    expect(seen.map((e) => e.type)).toEqual(['Workflow Started']);
  });

  test('an event without a type or workflow id is refused', async () => {
    const [good] = events();
    await expect(setup.publisher.publish({ ...good, type: '' })).rejects.toThrow(/type/);
    await expect(setup.publisher.publish({ ...good, workflowId: '' })).rejects.toThrow(/workflowId/);
  });
}

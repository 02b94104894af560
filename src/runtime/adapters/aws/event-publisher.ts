import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE } from '../../../contract/status';
import type { EventPublisher, WorkflowEvent } from '../../ports';
import { checkId } from '../../validation';

export interface EventBridgePublisherOptions {
  readonly client: EventBridgeClient;
  /** Name or ARN of the event bus. */
  readonly eventBusName: string;
}

/** EventBridge's limit on one entry (source, detail type, detail, resources and time), in bytes. */
export const MAX_EVENT_ENTRY_BYTES = 256 * 1024;

/**
 * The `detail` of a runtime event on EventBridge: the event's detail with `workflow_id` and
 * (for step events) `step_name` added, snake_case as rules and consumers match them.
 */
export function eventBridgeDetail(event: WorkflowEvent): Record<string, unknown> {
  return {
    ...event.detail,
    workflow_id: event.workflowId,
    ...(event.stepName === undefined ? {} : { step_name: event.stepName }),
  };
}

/**
 * EventPublisher on EventBridge: one PutEvents entry per event, `source` `EVENT_SOURCE`,
 * `detail-type` the event's type. A rejected entry (PutEvents answers 200 with
 * `FailedEntryCount`) is thrown as an error with EventBridge's code and message.
 */
export class EventBridgePublisher implements EventPublisher {
  private readonly client: EventBridgeClient;
  private readonly eventBusName: string;

  constructor(options: EventBridgePublisherOptions) {
    if (!options.eventBusName) throw new Error('EventBridgePublisher: eventBusName is required');
    this.client = options.client;
    this.eventBusName = options.eventBusName;
  }

  public async publish(event: WorkflowEvent): Promise<void> {
    checkId('event type', event.type);
    checkId('event workflowId', event.workflowId);
    const time = new Date(event.time);
    if (Number.isNaN(time.getTime())) throw new Error(`event time must be an ISO 8601 time, got ${JSON.stringify(event.time)}`);
    const entry: PutEventsRequestEntry = {
      EventBusName: this.eventBusName,
      Source: EVENT_SOURCE,
      DetailType: event.type,
      Detail: JSON.stringify(eventBridgeDetail(event)),
      Time: time,
    };
    const size = Buffer.byteLength(entry.Source!) + Buffer.byteLength(entry.DetailType!) + Buffer.byteLength(entry.Detail!) + 14;
    if (size > MAX_EVENT_ENTRY_BYTES) {
      throw new Error(`event '${event.type}' of workflow '${event.workflowId}' is ${size} bytes, over EventBridge's ${MAX_EVENT_ENTRY_BYTES}: put large values in an artifact and send its key`);
    }
    const out = await this.client.send(new PutEventsCommand({ Entries: [entry] }));
    const failed = out.Entries?.find((e) => e.ErrorCode !== undefined || e.ErrorMessage !== undefined);
    if ((out.FailedEntryCount ?? 0) > 0 || failed) {
      throw new Error(`EventBridge refused event '${event.type}' of workflow '${event.workflowId}' on bus '${this.eventBusName}': `
        + `${failed?.ErrorCode ?? 'unknown error'}: ${failed?.ErrorMessage ?? '(no message)'}`);
    }
  }
}

import {
  InvokeCommand,
  LambdaClient,
  SendDurableExecutionCallbackFailureCommand,
  SendDurableExecutionCallbackHeartbeatCommand,
  SendDurableExecutionCallbackSuccessCommand,
} from '@aws-sdk/client-lambda';
import { CallbackFailure, CallbackNotPendingError, CallbackRecord, DurableControl } from '../ports';

/**
 * Errors with which the durable callback API says the callback is no longer open.
 * `InvalidParameterValueException` is not one of them: it is a genuine error (a malformed id or
 * payload) and surfaces as such.
 */
const NOT_PENDING = new Set(['CallbackTimeoutException', 'ResourceNotFoundException']);

/**
 * DurableControl over the Lambda durable execution APIs. Executions are started through the
 * controller's alias (a qualified ARN) with the workflow id as `DurableExecutionName`, so a
 * repeated start of the same workflow is a no-op.
 */
export class LambdaDurableControl implements DurableControl {
  /**
   * @param props.controllerArn the controller's alias ARN; required to start executions, and
   * absent in the controller itself, which only completes callbacks
   */
  constructor(private readonly props: { readonly client: LambdaClient; readonly controllerArn?: string }) {
    if (props.controllerArn !== undefined && !/:function:[^:]+:[^:]+$/.test(props.controllerArn)) {
      throw new Error(`controllerArn must be a qualified function ARN (alias or version), got '${props.controllerArn}'`);
    }
  }

  async start(workflowId: string, input: Record<string, unknown>): Promise<void> {
    if (!this.props.controllerArn) {
      throw new Error('this DurableControl has no controllerArn, so it cannot start executions');
    }
    try {
      const res = await this.props.client.send(new InvokeCommand({
        FunctionName: this.props.controllerArn,
        InvocationType: 'Event',
        DurableExecutionName: workflowId,
        Payload: Buffer.from(JSON.stringify({ workflow_id: workflowId, input })),
      }));
      if (res.FunctionError) {
        throw new Error(`starting workflow ${workflowId} failed: ${res.FunctionError}`);
      }
    } catch (e) {
      if ((e as Error).name === 'DurableExecutionAlreadyStartedException') return; // idempotent start
      throw e;
    }
  }

  async callbackSuccess(callback: CallbackRecord, result: string): Promise<void> {
    await this.send(() => this.props.client.send(new SendDurableExecutionCallbackSuccessCommand({
      CallbackId: callback.durableCallbackId, Result: Buffer.from(result),
    })));
  }

  async callbackFailure(callback: CallbackRecord, error: CallbackFailure): Promise<void> {
    await this.send(() => this.props.client.send(new SendDurableExecutionCallbackFailureCommand({
      CallbackId: callback.durableCallbackId,
      Error: { ErrorType: error.code, ErrorMessage: error.message, ...(error.data !== undefined ? { ErrorData: error.data } : {}) },
    })));
  }

  async callbackHeartbeat(callback: CallbackRecord): Promise<void> {
    await this.send(() => this.props.client.send(new SendDurableExecutionCallbackHeartbeatCommand({ CallbackId: callback.durableCallbackId })));
  }

  private async send(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (e) {
      const name = (e as Error).name;
      if (NOT_PENDING.has(name)) throw new CallbackNotPendingError(`${name}: ${(e as Error).message}`);
      throw e;
    }
  }
}

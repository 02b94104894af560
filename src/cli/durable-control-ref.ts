/**
 * A DurableControl bound late. It breaks the construction cycle of the local server: the
 * controller needs the ports, the durable control needs the controller, and the ports include
 * the durable control. The ports get this holder; once the control exists it is bound here.
 */
import type { CallbackFailure, CallbackRecord, DurableControl } from '../runtime/ports';

/**
 * Forwards every call to the control bound with `DurableControlRef.bind`; a call before
 * then rejects with an error that says so.
 */
export class DurableControlRef implements DurableControl {
  private target: DurableControl | undefined;

  /** Binds the control calls are forwarded to. Throws if one is already bound. */
  bind(control: DurableControl): void {
    if (this.target) throw new Error('DurableControlRef: a durable control is already bound; bind it once, after creating the controller');
    this.target = control;
  }

  /** Whether a control is bound. */
  get bound(): boolean {
    return this.target !== undefined;
  }

  async start(workflowId: string, input: Record<string, unknown>): Promise<void> {
    return this.control('start').start(workflowId, input);
  }

  async callbackSuccess(callback: CallbackRecord, result: string): Promise<void> {
    return this.control('callbackSuccess').callbackSuccess(callback, result);
  }

  async callbackFailure(callback: CallbackRecord, error: CallbackFailure): Promise<void> {
    return this.control('callbackFailure').callbackFailure(callback, error);
  }

  async callbackHeartbeat(callback: CallbackRecord): Promise<void> {
    return this.control('callbackHeartbeat').callbackHeartbeat(callback);
  }

  private control(method: string): DurableControl {
    if (!this.target) {
      throw new Error(`DurableControlRef: ${method}() was called before a durable control was bound; bind it (bind()) before the ports are used`);
    }
    return this.target;
  }
}

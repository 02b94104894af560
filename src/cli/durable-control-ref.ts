/**
 * A DurableControl bound late. It breaks the construction cycle of the local server: the
 * controller needs the ports, the durable control needs the controller, and the ports include
 * the durable control. The ports get this holder; once the control exists it is bound here.
 */
import type { DurableControl } from '../runtime/ports';

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

  async start(...args: Parameters<DurableControl['start']>): ReturnType<DurableControl['start']> {
    return this.control('start').start(...args);
  }

  async callbackSuccess(...args: Parameters<DurableControl['callbackSuccess']>): ReturnType<DurableControl['callbackSuccess']> {
    return this.control('callbackSuccess').callbackSuccess(...args);
  }

  async callbackFailure(...args: Parameters<DurableControl['callbackFailure']>): ReturnType<DurableControl['callbackFailure']> {
    return this.control('callbackFailure').callbackFailure(...args);
  }

  async callbackHeartbeat(...args: Parameters<DurableControl['callbackHeartbeat']>): ReturnType<DurableControl['callbackHeartbeat']> {
    return this.control('callbackHeartbeat').callbackHeartbeat(...args);
  }

  private control(method: string): DurableControl {
    if (!this.target) {
      throw new Error(`DurableControlRef: ${method}() was called before a durable control was bound; bind it (bind()) before the ports are used`);
    }
    return this.target;
  }
}

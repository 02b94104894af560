/**
 * A minimal client of the Lambda Runtime API, so the agent image also runs as a Lambda
 * container image (any base image works when it speaks this API): fetch the next event, run
 * the handler, post its answer or its error, repeat.
 */

export interface LambdaRuntimeOptions {
  /** `host:port` of the Runtime API (`AWS_LAMBDA_RUNTIME_API`). */
  readonly api: string;
  readonly fetchImpl?: typeof fetch;
  /** Stops after this many invocations (tests). @default no limit */
  readonly maxInvocations?: number;
}

const VERSION = '2018-06-01';

export async function runLambdaRuntime(handler: (event: unknown) => Promise<unknown>, options: LambdaRuntimeOptions): Promise<void> {
  const f = options.fetchImpl ?? fetch;
  const base = `http://${options.api}/${VERSION}/runtime`;
  for (let n = 0; options.maxInvocations === undefined || n < options.maxInvocations; n++) {
    const next = await f(`${base}/invocation/next`);
    if (!next.ok) throw new Error(`the Lambda Runtime API answered ${next.status} for the next invocation`);
    const requestId = next.headers.get('lambda-runtime-aws-request-id');
    if (!requestId) throw new Error('the Lambda Runtime API sent an invocation without Lambda-Runtime-Aws-Request-Id');
    const trace = next.headers.get('lambda-runtime-trace-id');
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    else delete process.env._X_AMZN_TRACE_ID;
    let answer: { path: string; body: string; headers: Record<string, string> };
    try {
      const text = await next.text();
      const result = await handler(text === '' ? {} : JSON.parse(text));
      answer = { path: 'response', body: JSON.stringify(result ?? null), headers: {} };
    } catch (e) {
      const err = e as Error;
      answer = {
        path: 'error',
        body: JSON.stringify({ errorType: err.name ?? 'Error', errorMessage: err.message ?? String(e) }),
        headers: { 'lambda-runtime-function-error-type': 'Unhandled' },
      };
    }
    const res = await f(`${base}/invocation/${encodeURIComponent(requestId)}/${answer.path}`, {
      method: 'POST', body: answer.body, headers: { 'content-type': 'application/json', ...answer.headers },
    });
    await res.text();
    if (!res.ok) throw new Error(`the Lambda Runtime API refused the ${answer.path} of ${requestId}: ${res.status}`);
  }
}

import {
  InvokeCommand,
  type InvokeCommandInput,
  type InvokeCommandOutput,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import type { ClientResult } from '../engine/client-stats.js';
import { type Invoker, outcomeOf, type SliceOutcome } from '../engine/fanout.js';
import type { RunnerEvent, RunnerResult } from '../engine/handler.js';

export interface LambdaInvokerOptions {
  /**
   * How long to wait for one invocation's answer before giving the worker up as timed out. Lambda
   * answers by the function's own timeout at the latest, so longer than that (the CLI: the function's
   * timeout plus a minute) means the connection is dead: without this limit such a run would hang.
   */
  readonly invokeTimeoutMs?: number;
}

/**
 * Each worker is one synchronous (RequestResponse) invocation of the runner Lambda, which runs the
 * same handler a local worker process does. Lambda gives no progress while it runs: onProgress is
 * called once, with the final result.
 */
export class LambdaInvoker implements Invoker {
  private readonly controller = new AbortController();
  private aborted = false;

  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
    private readonly options: LambdaInvokerOptions = {},
  ) {}

  /** The request for one worker: exposed so tests check it against the SDK's own input type. */
  request(event: RunnerEvent): InvokeCommandInput {
    return {
      FunctionName: this.functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(event)),
    };
  }

  async invoke(event: RunnerEvent, onProgress: (r: ClientResult) => void): Promise<SliceOutcome> {
    const { worker } = event;
    const failed = (error: string): SliceOutcome => ({ worker, status: 'failed', result: undefined, error });
    let res: InvokeCommandOutput;
    const { invokeTimeoutMs } = this.options;
    // Our own timer rather than the HTTP handler's requestTimeout, which by default only logs a
    // warning: aborting the request closes its connection and frees the run.
    const timeout = invokeTimeoutMs === undefined ? undefined : AbortSignal.timeout(invokeTimeoutMs);
    try {
      res = await this.lambda.send(new InvokeCommand(this.request(event)), {
        abortSignal: timeout ? AbortSignal.any([this.controller.signal, timeout]) : this.controller.signal,
      });
    } catch (err) {
      if (timeout?.aborted && !this.aborted) {
        return failed(
          `timed out: invoke ${this.functionName} gave no answer in ${((invokeTimeoutMs ?? 0) / 1000).toFixed(1)} s, longer than the function can run (a dead connection?); the invocation may still be running`,
        );
      }
      if (this.aborted) {
        return {
          worker,
          status: 'stopped',
          result: undefined,
          error: 'stopped waiting for the invocation (it may still run until its own time limit)',
        };
      }
      const e = err as { name?: string; message?: string };
      return failed(`invoke ${this.functionName}: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`);
    }
    const text = res.Payload ? new TextDecoder().decode(res.Payload) : '';
    if (res.FunctionError) {
      // Lambda's own error shape: {errorType, errorMessage}; a time-out reads "Task timed out after N seconds".
      let message = text;
      try {
        const body = JSON.parse(text) as { errorType?: string; errorMessage?: string };
        message = `${body.errorType ?? res.FunctionError}: ${body.errorMessage ?? text}`;
      } catch {}
      return failed(
        /timed out/i.test(message)
          ? `timed out: ${message}`
          : `function error (${res.FunctionError}): ${message}`,
      );
    }
    let result: RunnerResult;
    try {
      result = JSON.parse(text) as RunnerResult;
    } catch {
      return failed(`the runner returned no JSON result (HTTP ${res.StatusCode}): ${text.slice(0, 200)}`);
    }
    if (result.result) onProgress(result.result);
    return outcomeOf({ ...result, worker });
  }

  abort(): void {
    this.aborted = true;
    this.controller.abort();
  }
}

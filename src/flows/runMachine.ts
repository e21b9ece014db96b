import { createActor, type AnyStateMachine, type InputFrom } from 'xstate';
import { fromErrorInfo, TokenError, toErrorInfo } from '../errors.js';
import type { FlowResult } from '../machines/flowResult.js';
import type { TokenSet } from '../machines/token.js';

/**
 * Run one acquisition machine to its final state: the token, or its error as a TokenError. Aborting
 * `signal` stops the actor, which stops every invoked actor (the loopback server closes, requests abort).
 */
export function runFlowMachine<TMachine extends AnyStateMachine>(
  machine: TMachine,
  input: InputFrom<TMachine>,
  options: { providerId: string; signal?: AbortSignal; inspect?: (event: any) => void },
): Promise<TokenSet> {
  return new Promise<TokenSet>((resolve, reject) => {
    const actor = createActor(machine, { input, ...(options.inspect ? { inspect: options.inspect } : {}) } as any);
    const onAbort = () => {
      actor.stop();
      reject(new TokenError({ code: 'transient', providerId: options.providerId, message: 'the acquisition was cancelled' }));
    };
    actor.subscribe({
      complete: () => {
        options.signal?.removeEventListener('abort', onAbort);
        const snapshot = actor.getSnapshot() as { status: string; output?: unknown };
        if (snapshot.status !== 'done') return;
        const result = snapshot.output as FlowResult;
        if (result.status === 'succeeded') resolve(result.token);
        else reject(fromErrorInfo(result.error));
      },
      error: (error) => {
        options.signal?.removeEventListener('abort', onAbort);
        reject(fromErrorInfo(toErrorInfo(options.providerId, error)));
      },
    });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    actor.start();
  });
}

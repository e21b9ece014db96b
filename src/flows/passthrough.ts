import { subjectTokenPassthroughMachine, type SubjectTokenPassthroughInput } from '../machines/subjectTokenPassthrough.js';
import type { TokenSet } from '../machines/token.js';
import { readSubjectActor } from './actors.js';
import { runFlowMachine } from './runMachine.js';
import type { FlowConfig, FlowDeps } from './types.js';

export function passthroughInput(config: FlowConfig): SubjectTokenPassthroughInput {
  return {
    providerId: config.providerId,
    ...(config.passthrough?.header !== undefined ? { header: config.passthrough.header } : {}),
    ...(config.passthrough?.prefix !== undefined ? { prefix: config.passthrough.prefix } : {}),
    ...(config.minSubjectLifetimeSec !== undefined ? { minSubjectLifetimeSec: config.minSubjectLifetimeSec } : {}),
    ...(config.passthrough?.assumedLifetimeSec !== undefined ? { assumedLifetimeSec: config.passthrough.assumedLifetimeSec } : {}),
  };
}

export function passthroughLogic(config: FlowConfig, deps: FlowDeps) {
  return subjectTokenPassthroughMachine.provide({ actors: { readSubjectToken: readSubjectActor(config, deps) } });
}

/** The subject token itself as the credential (for gateways that validate CI OIDC tokens themselves). */
export function runPassthrough(config: FlowConfig, deps: FlowDeps, signal?: AbortSignal): Promise<TokenSet> {
  return runFlowMachine(passthroughLogic(config, deps), passthroughInput(config), {
    providerId: config.providerId,
    ...(signal ? { signal } : {}),
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  });
}

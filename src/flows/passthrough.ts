import { subjectTokenPassthroughMachine, type SubjectTokenPassthroughInput } from '../machines/subjectTokenPassthrough.js';
import { readSubjectActor } from './actors.js';
import type { FlowConfigOf, FlowDeps } from './types.js';

export function passthroughInput(config: FlowConfigOf<'passthrough'>): SubjectTokenPassthroughInput {
  return { providerId: config.id, header: config.header, prefix: config.prefix, assumedLifetimeSec: config.assumedLifetimeSec };
}

/** The subject token itself as the credential (for gateways that validate CI OIDC tokens themselves). */
export function passthroughLogic(config: FlowConfigOf<'passthrough'>, deps: FlowDeps) {
  return subjectTokenPassthroughMachine.provide({ actors: { readSubjectToken: readSubjectActor(config, deps) } });
}

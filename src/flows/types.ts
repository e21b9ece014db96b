import type { ClientAuth, TokenEndpointAdapter } from '../adapters/http/types.js';
import type { LoopbackOptions, LoopbackServer } from '../adapters/loopback/index.js';
import type { Logger } from '../adapters/logger.js';
import type { EngineProviderConfig } from '../config/providerModel.js';
import type { PkceMaterial } from '../machines/flowTypes.js';
import type { InspectionEvent } from 'xstate';

export type { FlowName } from '../machines/token.js';
import type { FlowName } from '../machines/token.js';

/** Something the user must see (not a log line): where to log in, which code to enter, what we wait for. */
export interface FlowNotice {
  kind: 'device_code' | 'browser' | 'info';
  text: string;
  url?: string;
  userCode?: string;
  /** Epoch ms until which the login can be completed. */
  expiresAt?: number;
}

/**
 * What a flow runner reads: the provider exactly as the config model has it (a union keyed by `flow`, every
 * default applied), its client credential resolved once at start-up, and the per-acquisition parts.
 */
export type FlowProvider = EngineProviderConfig & { clientAuth: ClientAuth };
export type FlowConfig = FlowProvider & {
  /** Whether a human may be asked right now (browser, device code). */
  interactive: boolean;
  notify(notice: FlowNotice): void;
};
/** A flow runner's config for one flow. */
export type FlowConfigOf<F extends FlowName> = Extract<FlowConfig, { flow: F }>;

/** The outside world the runners plug into the machines. Only `http` is required. */
export interface FlowDeps {
  http: TokenEndpointAdapter;
  /** Epoch-ms clock; default Date.now. */
  now?: () => number;
  logger?: Logger;
  /** Opens a URL in a browser; default the BROWSER-aware opener of adapters/browser. */
  openUrl?: (url: string, context: { providerId: string }) => Promise<void>;
  startLoopback?: (options: LoopbackOptions) => Promise<LoopbackServer>;
  createPkce?: () => PkceMaterial;
  /** Environment for subject-token sources and the browser opener; default process.env. */
  env?: Record<string, string | undefined>;
  /** Passed to createActor: e.g. the Stately inspector. */
  inspect?: (event: InspectionEvent) => void;
}

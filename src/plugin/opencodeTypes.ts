/**
 * The part of OpenCode's plugin API (`@opencode-ai/plugin` 1.18.33) this plugin uses, written by hand:
 * the package needs Node 22 to install. Shapes follow what the runtime really passes
 * (see /work/shared/reference/opencode-plugin-api.md), not only the published typings.
 */
import type { z } from 'zod';

/** The SDK client bound to this instance; only the calls we make, every one optional at runtime. */
export interface OpencodeClientLike {
  app?: {
    log?(options: {
      body: { service: string; level: 'debug' | 'info' | 'warn' | 'error'; message: string; extra?: Record<string, unknown> };
    }): Promise<unknown>;
  };
  tui?: {
    showToast?(options: {
      body: { title?: string; message: string; variant: 'info' | 'success' | 'warning' | 'error'; duration?: number };
    }): Promise<unknown>;
  };
}

export interface PluginInput {
  client: OpencodeClientLike;
  directory?: string;
  worktree?: string;
  [key: string]: unknown;
}

export type PluginOptions = Record<string, unknown>;

/** OpenCode's config as the `config` hook gets it: mutated in place. */
export interface OpenCodeConfig {
  provider?: Record<string, OpenCodeProviderConfig | undefined>;
  logLevel?: string;
  [key: string]: unknown;
}

export interface OpenCodeProviderConfig {
  npm?: string;
  name?: string;
  options?: Record<string, unknown>;
  models?: Record<string, unknown>;
  [key: string]: unknown;
}

/** `input.model` of chat.params / chat.headers at runtime (the typed `input.provider.info` does not exist). */
export interface ChatModelInput {
  model?: { id?: string; providerID?: string };
  agent?: string;
  [key: string]: unknown;
}

export interface ToolContext {
  sessionID?: string;
  directory?: string;
  abort?: AbortSignal;
  [key: string]: unknown;
}

export interface ToolDefinition<Args extends z.ZodRawShape = z.ZodRawShape> {
  description: string;
  args: Args;
  execute(args: z.infer<z.ZodObject<Args>>, context: ToolContext): Promise<string>;
}

/** `tool()` of @opencode-ai/plugin: returns its input; here it only carries the types. */
export function tool<Args extends z.ZodRawShape>(definition: ToolDefinition<Args>): ToolDefinition<Args> {
  return definition;
}

export type AuthOAuthResult = {
  url: string;
  instructions: string;
  method: 'auto';
  callback(): Promise<{ type: 'success'; key: string; provider?: string } | { type: 'failed' }>;
};

export interface AuthMethod {
  type: 'oauth';
  label: string;
  authorize(inputs?: Record<string, string>): Promise<AuthOAuthResult>;
}

export interface AuthHook {
  provider: string;
  loader?: (auth: () => Promise<unknown>, provider: unknown) => Promise<Record<string, unknown>>;
  methods: AuthMethod[];
}

export interface Hooks {
  config?: (config: OpenCodeConfig) => Promise<void>;
  'chat.headers'?: (input: ChatModelInput, output: { headers: Record<string, string> }) => Promise<void>;
  'tool.execute.before'?: (input: { tool: string; sessionID?: string; callID?: string }, output: { args: unknown }) => Promise<void>;
  tool?: Record<string, ToolDefinition<any>>;
  auth?: AuthHook;
  dispose?: () => Promise<void>;
}

export type Plugin = (input: PluginInput, options?: PluginOptions) => Promise<Hooks>;

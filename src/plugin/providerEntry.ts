import type { ProviderConfig } from '../config/index.js';
import type { ModelEntry } from '../adapters/models/index.js';
import { withResponsesStreamRepair } from '../compat/responsesStreamRepair.js';
import type { OpenCodeConfig, OpenCodeProviderConfig } from './opencodeTypes.js';

/**
 * What a managed provider looks like in OpenCode's config after the `config` hook. The token never goes
 * into the config: `chat.headers` and the wrapped `fetch` add it per request.
 */

/** Stands where OpenCode and the AI SDK want an API key; never sent (our headers replace it). */
export const PLACEHOLDER_API_KEY = 'managed-by-opencode-oauth-machines';

const OAUTH_OPTION_KEYS = ['oauth2', 'oauth2ModelSync'] as const;
/** Secrets of a provider block that OpenCode has no use for; kept out of its resolved config. */
const SECRET_KEYS = ['clientSecret', 'privateKey'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function providerPackage(provider: ProviderConfig): string {
  return provider.opencode.responseApi ? '@ai-sdk/openai' : '@ai-sdk/openai-compatible';
}

export function registerProvider(
  config: OpenCodeConfig,
  provider: ProviderConfig,
  models: Record<string, ModelEntry>,
  fetch: typeof globalThis.fetch,
): OpenCodeProviderConfig {
  config.provider ??= {};
  const existing = isRecord(config.provider[provider.id]) ? (config.provider[provider.id] as OpenCodeProviderConfig) : {};
  const options = isRecord(existing.options) ? existing.options : {};
  const entry: OpenCodeProviderConfig = {
    ...existing,
    npm: providerPackage(provider),
    name: provider.name,
    options: {
      ...options,
      baseURL: provider.opencode.baseURL,
      apiKey: typeof options.apiKey === 'string' && options.apiKey !== '' ? options.apiKey : PLACEHOLDER_API_KEY,
      fetch: provider.opencode.responseApi ? withResponsesStreamRepair(fetch) : fetch,
    },
    models,
  };
  config.provider[provider.id] = entry;
  return entry;
}

/**
 * Removes client secrets and private keys from the blocks OpenCode keeps (its resolved config is shown by
 * `opencode debug config` and the `/config` API), remembering them so that a second run of the hook on the
 * same object still parses. Keys are where the block sits; values never leave this process.
 */
export class SecretStash {
  private readonly stash = new Map<string, Record<string, unknown>>();

  /** Put back what an earlier `strip` took from these blocks (only where the block has no value of its own). */
  restore(config: OpenCodeConfig, pluginOptions: unknown) {
    for (const [key, block] of this.blocks(config, pluginOptions)) {
      const kept = this.stash.get(key);
      if (!kept) continue;
      for (const [name, value] of Object.entries(kept)) if (block[name] === undefined) block[name] = value;
    }
  }

  strip(config: OpenCodeConfig, pluginOptions: unknown) {
    for (const [key, block] of this.blocks(config, pluginOptions)) {
      const kept: Record<string, unknown> = {};
      for (const name of SECRET_KEYS) {
        if (block[name] === undefined) continue;
        kept[name] = block[name];
        delete block[name];
      }
      if (Object.keys(kept).length > 0) this.stash.set(key, { ...this.stash.get(key), ...kept });
    }
  }

  private *blocks(config: OpenCodeConfig, pluginOptions: unknown): Generator<[string, Record<string, unknown>]> {
    for (const [id, provider] of Object.entries(isRecord(config.provider) ? config.provider : {})) {
      if (!isRecord(provider) || !isRecord(provider.options)) continue;
      for (const name of OAUTH_OPTION_KEYS) {
        const block = provider.options[name];
        if (isRecord(block)) yield [`provider.${id}.options.${name}`, block];
      }
    }
    const sources: [string, unknown][] = [
      ['plugin options', pluginOptions],
      ['pluginConfig.oauth2ModelSync', isRecord(config.pluginConfig) ? config.pluginConfig.oauth2ModelSync : undefined],
    ];
    for (const [source, container] of sources) {
      if (!isRecord(container) || !Array.isArray(container.servers)) continue;
      for (const [index, server] of container.servers.entries()) {
        if (isRecord(server)) yield [`${source}.servers[${index}]#${String(server.id)}`, server];
      }
    }
  }
}

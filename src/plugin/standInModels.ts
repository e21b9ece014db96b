import { displayName, type ModelEntry } from '../adapters/models/index.js';
import type { ProviderConfig } from '../config/index.js';

/**
 * Model entries that keep a provider visible while its list is unknown (a user flow before its first login).
 * OpenCode 1.18 leaves a provider without models out of `/models`, `/connect` and `--model`, so without a stand-in
 * a TUI user could not even choose it to log in. Declared models are never touched: stand-ins only fill an
 * empty list.
 */

/** The id of the one entry that says to log in, when nothing names a model of the provider. */
export const LOGIN_STAND_IN = 'login';

export const loginStandInName = (providerName: string) => `Log in to ${providerName} with /connect`;

/** Marks our entries, so a later run of the config hook on the same object tells them from the user's. */
const STAND_IN = Symbol.for('opencode-oauth-machines.standIn');

export function isStandIn(entry: unknown): boolean {
  return !!entry && typeof entry === 'object' && (entry as Record<symbol, unknown>)[STAND_IN] === true;
}

function standIn(name: string): ModelEntry {
  const entry: ModelEntry = { name };
  Object.defineProperty(entry, STAND_IN, { value: true, enumerable: false });
  return entry;
}

/** `provider/model` strings that name a model of this provider (opencode.json's `model`, `small_model`). */
function modelIdsOf(providerId: string, refs: readonly unknown[]): string[] {
  const ids: string[] = [];
  for (const ref of refs) {
    if (typeof ref !== 'string' || !ref.startsWith(`${providerId}/`)) continue;
    const id = ref.slice(providerId.length + 1);
    if (id && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

export function standInModels(
  provider: Pick<ProviderConfig, 'id' | 'name'>,
  context: {
    /** what the config lists for the provider (never changed) */
    declared: Readonly<Record<string, unknown>>;
    /** opencode.json's `model` and `small_model` */
    configModels: readonly unknown[];
    /** the model `opencode run --model` asks for */
    requested: { providerId: string; modelId: string } | undefined;
    userFlow: boolean;
  },
): Record<string, ModelEntry> {
  const named = modelIdsOf(provider.id, context.configModels);
  if (context.requested?.providerId === provider.id && !named.includes(context.requested.modelId)) named.push(context.requested.modelId);
  const out: Record<string, ModelEntry> = {};
  for (const id of named) if (!(id in context.declared)) out[id] = standIn(displayName(id));
  const declaresAny = Object.keys(context.declared).some((id) => !isStandIn(context.declared[id]));
  if (!declaresAny && named.length === 0 && context.userFlow && !(LOGIN_STAND_IN in context.declared)) {
    out[LOGIN_STAND_IN] = standIn(loginStandInName(provider.name));
  }
  return out;
}

/** The declared models without the stand-ins an earlier run of the config hook added to the same object. */
export function withoutStandIns(models: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  if (!models || typeof models !== 'object') return models;
  return Object.fromEntries(Object.entries(models).filter(([, entry]) => !isStandIn(entry)));
}

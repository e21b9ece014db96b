import * as v from 'valibot';
import { fromValibotIssue, issue, type ConfigIssue, type IssueContext } from './issues.js';
import { toProviderModel, type EngineProviderConfig, type ProviderConfig } from './providerModel.js';
import { effectiveClientAuthMethod, engineProviderSchema, providerEntries, providerSchema } from './providerSchema.js';
import { DEFAULT_RUNTIME, fromOpenCodeLogLevel, RUNTIME_FIELDS, runtimeEntries, type RuntimeConfig } from './runtimeSchema.js';
import { providerWarnings, unknownFieldWarnings } from './warnings.js';

/**
 * Reads both config shapes of `@vymalo/opencode-oauth2` (so a user swaps the plugin name and keeps the
 * rest of opencode.json) and never throws: a broken block becomes issues, every other block still parses.
 *
 * - Shape A: `provider.<id>.options.oauth2` (alias `oauth2ModelSync`; the first object found wins), with
 *   `baseURL` from `provider.<id>.options.baseURL` and `name` from `provider.<id>.name`.
 * - Shape B: `pluginConfig.oauth2ModelSync.servers[]` plus its top-level runtime fields.
 * - Shape B again from the plugin's own options (`"plugin": [["<this plugin>", { servers, … }]]`): OpenCode
 *   1.18 drops unknown top-level keys such as `pluginConfig` before plugins see the config, so this is
 *   where shape B and the runtime fields can live under OpenCode. These options win over `pluginConfig`.
 * Shape A wins on an id clash (as in the reference), with a warning.
 */

export interface ParseOptions {
  /** The second element of OpenCode's `["plugin", options]` tuple: same shape as `pluginConfig.oauth2ModelSync`. */
  pluginOptions?: unknown;
  /**
   * Engine use (no OpenCode around): the OpenCode-only `baseURL` may be left out. Use `parseEngineServers`,
   * whose result type says so.
   */
  withoutOpenCode?: boolean;
}

export interface ParsedConfig<P = ProviderConfig> {
  /** Valid, enabled providers, in config order (shape A first, then shape B). */
  providers: P[];
  /** Blocks that could not be used; the provider they name is not managed. */
  errors: ConfigIssue[];
  /** Valid but suspicious settings (ignored fields, typos, plain http, clashes). */
  warnings: ConfigIssue[];
  runtime: RuntimeConfig;
  /** Ids of providers with `enabled: false`. */
  disabled: string[];
}

const OAUTH_OPTIONS_KEYS = ['oauth2', 'oauth2ModelSync'] as const;
const PLUGIN_CONFIG_SOURCE = 'pluginConfig.oauth2ModelSync';
const PLUGIN_OPTIONS_SOURCE = 'plugin options';

type Record_ = Record<string, unknown>;
const isRecord = (value: unknown): value is Record_ => typeof value === 'object' && value !== null && !Array.isArray(value);

interface Candidate {
  id: string | undefined;
  source: string;
  /** The block as written (for unknown-field and ignored-field warnings). */
  raw: Record_;
  /** The block with what the shape supplies from outside it (id, name, baseURL). */
  input: Record_;
  requiredHints?: Record<string, string>;
}

class Collector {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  add(found: ConfigIssue) {
    (found.severity === 'error' ? this.errors : this.warnings).push(found);
  }
}

export function parseOpenCodeConfig(config: unknown, options: ParseOptions = {}): ParsedConfig {
  const out = new Collector();
  try {
    return parseUnsafe(config, options, out);
  } catch (error) {
    // Last line of defence (a throwing getter, a Proxy): the config hook must never crash on config.
    out.add(
      issue(
        'error',
        { subject: 'config', source: 'config' },
        `could not be read (${error instanceof Error ? error.name : typeof error}); no provider is managed`,
      ),
    );
    return { providers: [], errors: out.errors, warnings: out.warnings, runtime: { ...DEFAULT_RUNTIME }, disabled: [] };
  }
}

/** The engine's entry: shape-B `servers[]` blocks, validated as OpenCode would except that `baseURL` is optional. */
export function parseEngineServers(servers: readonly unknown[]): ParsedConfig<EngineProviderConfig> {
  return parseOpenCodeConfig({}, { pluginOptions: { servers }, withoutOpenCode: true }) as ParsedConfig<EngineProviderConfig>;
}

function parseUnsafe(config: unknown, options: ParseOptions, out: Collector): ParsedConfig {
  const root = isRecord(config) ? config : {};
  const providersNode = isRecord(root.provider) ? root.provider : {};

  const pluginConfig = isRecord(root.pluginConfig) ? root.pluginConfig.oauth2ModelSync : undefined;
  const shapeBBlocks = [
    readPluginBlock(pluginConfig, PLUGIN_CONFIG_SOURCE, out),
    readPluginBlock(options.pluginOptions, PLUGIN_OPTIONS_SOURCE, out),
  ];

  const runtime = readRuntime(shapeBBlocks, root.logLevel, out);

  const shapeA = collectShapeA(providersNode, out);
  const shapeB = collectShapeB(shapeBBlocks, providersNode, out);

  const candidates: Candidate[] = [...shapeA];
  const claimed = new Map(shapeA.map((candidate) => [candidate.id, candidate.source]));
  for (const candidate of shapeB) {
    const owner = claimed.get(candidate.id);
    if (owner !== undefined) {
      out.add(
        issue(
          'warning',
          { subject: candidate.id!, providerId: candidate.id!, source: candidate.source },
          `is defined in both ${owner} and ${candidate.source}; the provider block wins and ${candidate.source} is ignored`,
        ),
      );
      continue;
    }
    claimed.set(candidate.id, candidate.source);
    candidates.push(candidate);
  }

  const providers: ProviderConfig[] = [];
  const disabled: string[] = [];
  for (const candidate of candidates) {
    const result = parseCandidate(candidate, runtime, out, options.withoutOpenCode === true);
    if (result === 'disabled') disabled.push(candidate.id!);
    else if (result) providers.push(result);
  }
  return { providers, errors: out.errors, warnings: out.warnings, runtime, disabled };
}

/** A shape-B container: must be an object when present; its `servers` must be an array when present. */
function readPluginBlock(block: unknown, source: string, out: Collector): { block: Record_; source: string } | undefined {
  if (block === undefined) return undefined;
  if (!isRecord(block)) {
    out.add(issue('error', { subject: source, source }, 'must be an object'));
    return undefined;
  }
  if (block.servers !== undefined && !Array.isArray(block.servers)) {
    out.add(issue('error', { subject: source, source }, 'servers must be an array of provider objects', 'servers'));
  }
  return { block, source };
}

function readRuntime(
  blocks: ({ block: Record_; source: string } | undefined)[],
  hostLogLevel: unknown,
  out: Collector,
): RuntimeConfig {
  const runtime: RuntimeConfig = { ...DEFAULT_RUNTIME, logLevel: fromOpenCodeLogLevel(hostLogLevel) ?? DEFAULT_RUNTIME.logLevel };
  // Later blocks (plugin options) win field by field; a bad field keeps the value before it.
  for (const entry of blocks) {
    if (!entry) continue;
    for (const field of RUNTIME_FIELDS) {
      if (!(field in entry.block)) continue;
      const result = v.safeParse(runtimeEntries[field], entry.block[field]);
      if (result.success) {
        if (result.output !== undefined) Object.assign(runtime, { [field]: result.output });
        continue;
      }
      for (const found of result.issues) {
        const pathToField = { type: 'object', origin: 'value', input: entry.block, key: field, value: entry.block[field] } as const;
        out.add(fromValibotIssue({ ...found, path: [pathToField, ...(found.path ?? [])] }, { subject: entry.source, source: entry.source }));
      }
    }
  }
  return runtime;
}

function collectShapeA(providersNode: Record_, out: Collector): Candidate[] {
  const candidates: Candidate[] = [];
  for (const [key, provider] of Object.entries(providersNode)) {
    if (!isRecord(provider) || !isRecord(provider.options)) continue;
    const providerOptions = provider.options;
    const present = OAUTH_OPTIONS_KEYS.filter((name) => providerOptions[name] !== undefined);
    if (present.length === 0) continue;
    const id = key.trim();
    const firstKey = present[0]!;
    const source = `provider.${key}.options.${firstKey}`;
    const block = providerOptions[firstKey];
    const context = { subject: id || source, providerId: id || undefined, source };
    if (!isRecord(block)) {
      out.add(issue('error', context, `${source} must be an object (received ${Array.isArray(block) ? 'an array' : typeof block})`));
      continue;
    }
    if (present.length > 1) {
      out.add(issue('warning', context, `both options.oauth2 and options.oauth2ModelSync are set; only options.${firstKey} is read`));
    }
    candidates.push({
      id,
      source,
      raw: block,
      input: {
        ...block,
        id: key,
        ...(provider.name !== undefined || block.name !== undefined ? { name: provider.name ?? block.name } : {}),
        ...(providerOptions.baseURL !== undefined || block.baseURL !== undefined
          ? { baseURL: providerOptions.baseURL ?? block.baseURL }
          : {}),
      },
      requiredHints: { baseURL: `set provider.${key}.options.baseURL` },
    });
  }
  return candidates;
}

function collectShapeB(
  blocks: ({ block: Record_; source: string } | undefined)[],
  providersNode: Record_,
  out: Collector,
): Candidate[] {
  const byId = new Map<string, Candidate>();
  // Plugin options come second in `blocks` but win over pluginConfig, so walk them first.
  for (const entry of [...blocks].reverse()) {
    if (!entry || !Array.isArray(entry.block.servers)) continue;
    entry.block.servers.forEach((server: unknown, index: number) => {
      const source = `${entry.source}.servers[${index}]`;
      if (!isRecord(server)) {
        out.add(issue('error', { subject: source, source }, 'must be an object'));
        return;
      }
      if (server.id === undefined) {
        out.add(issue('error', { subject: source, source }, 'id is required (the provider id OpenCode will use)', 'id'));
        return;
      }
      const idCheck = v.safeParse(providerEntries.id, server.id);
      if (!idCheck.success) {
        const pathToId = { type: 'object', origin: 'value', input: server, key: 'id', value: server.id } as const;
        out.add(fromValibotIssue({ ...idCheck.issues[0], path: [pathToId] }, { subject: source, source }));
        return;
      }
      const id = idCheck.output;
      const earlier = byId.get(id);
      if (earlier) {
        const context = { subject: id, providerId: id, source };
        if (earlier.source.startsWith(`${entry.source}.`)) {
          out.add(issue('error', context, `is defined twice; ${earlier.source} is used and ${source} is ignored`));
        } else {
          out.add(issue('warning', context, `is defined in both ${earlier.source} and ${source}; the plugin options win and ${source} is ignored`));
        }
        return;
      }
      const existing = isRecord(providersNode[id]) ? (providersNode[id] as Record_) : undefined;
      const existingOptions = existing && isRecord(existing.options) ? existing.options : undefined;
      const name = existing?.name ?? server.name;
      const baseURL = server.baseURL ?? existingOptions?.baseURL;
      byId.set(id, {
        id,
        source,
        raw: server,
        input: { ...server, ...(name !== undefined ? { name } : {}), ...(baseURL !== undefined ? { baseURL } : {}) },
      });
    });
  }
  return [...byId.values()];
}

function parseCandidate(
  candidate: Candidate,
  runtime: RuntimeConfig,
  out: Collector,
  withoutOpenCode: boolean,
): ProviderConfig | 'disabled' | undefined {
  const context: IssueContext = {
    subject: candidate.id || candidate.source,
    ...(candidate.id ? { providerId: candidate.id } : {}),
    source: candidate.source,
    ...(candidate.requiredHints ? { requiredHints: candidate.requiredHints } : {}),
  };
  for (const warning of unknownFieldWarnings(candidate.raw, context)) out.add(warning);

  // A disabled block may be half-written: only `enabled` itself has to be valid.
  const enabled = v.safeParse(providerEntries.enabled, candidate.input.enabled);
  if (enabled.success && enabled.output === false) return 'disabled';

  const result = v.safeParse(withoutOpenCode ? engineProviderSchema : providerSchema, candidate.input);
  if (!result.success) {
    const seen = new Set<string>();
    for (const found of result.issues) {
      const converted = fromValibotIssue(found, context);
      if (seen.has(converted.message)) continue;
      seen.add(converted.message);
      out.add(converted);
    }
    return undefined;
  }
  const checks = providerWarnings(candidate.raw, { ...result.output, clientAuthMethod: effectiveClientAuthMethod(result.output) }, context);
  for (const found of checks) out.add(found);
  // Plain http off this machine is the one check that stops a provider.
  if (checks.some((found) => found.severity === 'error')) return undefined;
  return toProviderModel(result.output, {
    source: candidate.source,
    httpTimeoutMs: runtime.httpTimeoutMs,
    tokenExpirySkewMs: runtime.tokenExpirySkewMs,
  });
}

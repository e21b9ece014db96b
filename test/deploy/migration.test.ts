/**
 * Walks docs/migration.md: its config snippets parse and pass both the plugin's own config parser and the JSON
 * Schema; the log-event table covers the reference's event catalogue, and every event it names on our side is
 * one that src/ really logs; every reference field named in the field table is a field of ours.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseOpenCodeConfig } from '../../src/config/index.js';
import { PROVIDER_FIELDS } from '../../src/config/providerSchema.js';
import { RUNTIME_FIELDS } from '../../src/config/runtimeSchema.js';
import { codeBlocks } from './support/markdown.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const GUIDE = readFileSync(path.join(ROOT, 'docs/migration.md'), 'utf8');

/** The reference's non-trace events (anchor study of @vymalo/opencode-oauth2, §2.18). */
const REFERENCE_EVENTS = [
  'plugin_config_server_invalid', 'plugin_config_server_missing_fields', 'provider_skipped_missing_baseurl',
  'sync_start', 'sync_success', 'sync_failed', 'sync_startup_failed', 'sync_schedule_retry',
  'oauth_login_started', 'oauth_login_success', 'oauth_login_failed', 'oauth_open_browser_failed',
  'oauth_refresh_success', 'oauth_refresh_failed', 'oauth_device_authorization_failed', 'oauth_device_code_issued',
  'oauth_device_code_success', 'oauth_device_code_poll_failed', 'oauth_device_code_poll_transient_error',
  'oauth_client_credentials_started', 'oauth_client_credentials_success', 'oauth_jwt_bearer_started',
  'oauth_jwt_bearer_success', 'oauth_token_exchange_started', 'oauth_token_exchange_success',
  'model_discovery_error_body', 'model_discovery_empty', 'oauth2_bearer_propagated_to_provider_headers',
];

function sourceText(dir: string): string {
  return readdirSync(dir)
    .map((entry) => path.join(dir, entry))
    .map((full) => (statSync(full).isDirectory() ? sourceText(full) : full.endsWith('.ts') ? readFileSync(full, 'utf8') : ''))
    .join('\n');
}

function table(heading: string): string[][] {
  const start = GUIDE.indexOf(heading);
  const rows: string[][] = [];
  for (const line of GUIDE.slice(start).split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    if (line.startsWith('|') && !line.startsWith('|---')) rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows.slice(1);
}

const codeNames = (cell: string) => [...cell.matchAll(/`([a-z][a-z0-9_*]*)`/g)].map((match) => match[1]!);
const fieldNames = (cell: string) => [...cell.matchAll(/`([a-z][A-Za-z0-9]*)`/g)].map((match) => match[1]!);

describe('docs/migration.md', () => {
  const src = sourceText(path.join(ROOT, 'src'));

  it('maps every event of the reference', () => {
    const left = table('### Log events').flatMap(([reference]) => codeNames(reference ?? ''));
    const covered = (event: string) =>
      left.some((name) => name === event || (name.endsWith('*') && event.startsWith(name.slice(0, -1))) || (name.includes('*') && new RegExp(`^${name.replace(/\*/g, '.*')}$`).test(event)));
    expect(REFERENCE_EVENTS.filter((event) => !covered(event))).toEqual([]);
  });

  it('names on our side only events that src/ logs', () => {
    const right = table('### Log events').flatMap(([, ours]) => codeNames(ours ?? ''));
    const notEvents = new Set(['providerid', 'how', 'acquired', 'refreshed', 'adopted', 'code', 'message', 'field', 'issue', 'source', 'config', 'debug']);
    const events = right.filter((name) => !notEvents.has(name.toLowerCase()));
    expect(events.length).toBeGreaterThan(10);
    const missing = events.filter((name) =>
      name.endsWith('_*') ? !src.includes(`'${name.slice(0, -1)}`) : !src.includes(`'${name}'`),
    );
    expect(missing).toEqual([]);
  });

  it('every field the field table names is a field of ours', () => {
    const ours = new Set<string>([...PROVIDER_FIELDS, ...RUNTIME_FIELDS]);
    const named = table('### Fields').flatMap(([field]) => fieldNames(field ?? ''));
    expect(named.length).toBeGreaterThan(15);
    expect(named.filter((name) => !ours.has(name))).toEqual([]);
  });

  it('the opencode-oci-oidc example parses into the provider the table promises, and passes the JSON Schema', () => {
    const block = codeBlocks(GUIDE).find((b) => b.code.includes('"oci-oidc"'))!;
    const config = JSON.parse(block.code.replace(/^\s*\/\/.*$/gm, '')) as Record<string, unknown>;
    const parsed = parseOpenCodeConfig(structuredClone(config));
    expect(parsed.errors).toEqual([]);
    const [provider] = parsed.providers;
    expect(provider).toMatchObject({
      id: 'oci-oidc',
      flow: 'authorization_code',
      redirectPort: 8888,
      redirectPath: '/callback',
      opencode: { baseURL: 'https://oci-gpu.example.com/v1' },
    });
    expect(provider!.flow === 'authorization_code' && provider!.scopes).toEqual(['openid', 'profile', 'offline_access']);
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'schema/opencode-oauth-machines.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
  });

  it('the plugin-swap snippet is valid JSON', () => {
    const swap = codeBlocks(GUIDE).find((b) => b.code.includes('only the plugin entry changes'))!;
    expect(JSON.parse(swap.code.replace(/^\s*\/\/.*$/gm, ''))).toEqual({ plugin: ['opencode-oauth-machines@0.1.0'] });
  });
});

/**
 * schema/opencode-oauth-machines.schema.json: generated from the valibot schemas, committed, and in step with
 * them (UPDATE_SCHEMA=1 or `node scripts/gen-schema.mjs` rewrites it). The snippets of the docs validate against
 * it, and it refuses what the valibot schema refuses.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { providerSchema } from '../../src/config/providerSchema.js';
import { renderConfigSchema, SCHEMA_FILE } from './support/jsonSchema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FILE = path.join(ROOT, SCHEMA_FILE);

if (process.env.UPDATE_SCHEMA === '1') writeFileSync(FILE, renderConfigSchema());
const committed = readFileSync(FILE, 'utf8');
const schema = JSON.parse(committed) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: false });
const validateConfig = ajv.compile(schema);
const validateOauth2 = ajv.getSchema(`${String(schema.$id)}#/definitions/oauth2`)!;

const good = {
  issuer: 'https://sso.corp.example/realms/dev',
  clientId: 'opencode',
  scopes: ['openid', 'offline_access'],
  authFlow: 'device_code',
};

describe(SCHEMA_FILE, () => {
  it('matches what the generator makes from src/config today (run node scripts/gen-schema.mjs after a config change)', () => {
    expect(committed).toBe(renderConfigSchema());
  });

  it('describes every provider field, with its documentation', () => {
    const properties = (schema.definitions as { oauth2: { properties: Record<string, { description?: string }> } }).oauth2.properties;
    const fields = Object.keys((providerSchema as unknown as { pipe: [{ entries: object }] }).pipe[0].entries);
    expect(Object.keys(properties).sort()).toEqual(fields.sort());
    expect(fields.filter((field) => !properties[field]!.description)).toEqual([]);
  });

  it('accepts what valibot accepts and refuses what it refuses', () => {
    const cases: Array<Record<string, unknown>> = [
      good,
      { ...good, redirectPort: 8765 },
      { ...good, redirectPort: '8765' },
      { ...good, redirectPort: 70000 },
      { ...good, authFlow: 'password' },
      { ...good, pkce: 'true' },
      { ...good, pkce: 'yes' },
      { ...good, scopes: 'openid offline_access' },
      {
        ...good,
        authFlow: 'jwt_bearer',
        subjectTokenSource: { type: 'github_actions', audience: 'https://sso.corp.example/realms/ci' },
      },
      { ...good, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'github_actions' } },
      { ...good, authFlow: 'jwt_bearer', subjectTokenSource: { type: 'carrier_pigeon' } },
    ];
    for (const block of cases) {
      const byValibot = v.safeParse(providerSchema, { id: 'corp', baseURL: 'https://llm.corp.example/v1', ...block }).success;
      expect(validateOauth2(block), JSON.stringify(block)).toBe(byValibot);
    }
  });

  it('validates a whole opencode.json: shape A, the plugin tuple options, and a typo', () => {
    const config = {
      $schema: 'https://opencode.ai/config.json',
      plugin: [['opencode-oauth-machines', { logLevel: 'debug', servers: [{ id: 'ci', baseURL: 'https://llm/v1', ...good }] }]],
      provider: { corp: { name: 'Corp', options: { baseURL: 'https://llm/v1', oauth2: good } } },
    };
    expect(validateConfig(config), JSON.stringify(validateConfig.errors)).toBe(true);
    const typo = structuredClone(config);
    (typo.provider.corp.options.oauth2 as Record<string, unknown>).authFlow = 'device-code';
    expect(validateConfig(typo)).toBe(false);
    const noId = structuredClone(config);
    delete (noId.plugin[0]![1] as { servers: Array<Record<string, unknown>> }).servers[0]!.id;
    expect(validateConfig(noId)).toBe(false);
  });
});

/**
 * The JSON Schema of the plugin's configuration, generated from the valibot schemas of src/config with
 * @valibot/to-json-schema. valibot pipes that coerce input (`"8765"` from `{env:VAR}` → 8765, `"true"` → true, a
 * scope string → a list) start from `unknown`, which the converter cannot type; for those fields the input type
 * is taken from the field's own documentation metadata (the `type` column of docs/config.md). Committed as
 * schema/opencode-oauth-machines.schema.json; test/deploy/schema.test.ts fails when it drifts.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { providerEntries, providerSchema } from '../../../src/config/providerSchema.js';
import { fieldDocOf } from '../../../src/config/rules.js';
import { runtimeEntries, runtimeSchema } from '../../../src/config/runtimeSchema.js';

type Json = Record<string, unknown>;

export const SCHEMA_FILE = 'schema/opencode-oauth-machines.schema.json';
const PLUGIN_NAME = 'opencode-oauth-machines';
const NUMERIC_TEXT = '^\\s*-?\\d+(?:\\.\\d+)?\\s*$';

interface FieldDoc {
  type: string;
  default?: string;
  origin: string;
  doc: string;
}

/** Input types for fields whose valibot pipe starts from `unknown`, read from the documented type text. */
function typeFromDoc(docType: string): Json | undefined {
  const range = /^integer (\d+)–(\d+)$/.exec(docType);
  if (range) {
    return {
      anyOf: [
        { type: 'integer', minimum: Number(range[1]), maximum: Number(range[2]) },
        { type: 'string', pattern: NUMERIC_TEXT, description: 'a number as text, e.g. from {env:VAR}' },
      ],
    };
  }
  if (docType === 'number > 0') {
    return { anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string', pattern: NUMERIC_TEXT }] };
  }
  if (docType === 'boolean') return { anyOf: [{ type: 'boolean' }, { enum: ['true', 'false'] }] };
  if (docType.startsWith('string[]') || docType.startsWith('URI')) {
    return { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
  }
  if (docType.startsWith('`true`')) return { anyOf: [{ type: 'boolean' }, { type: 'object' }] };
  if (docType.startsWith('object') || docType.startsWith('JWK') || docType.startsWith('`{')) return { type: 'object' };
  return undefined;
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Replace the converter's copy of our metadata (`doc`) with JSON Schema annotations; fill untyped inputs. */
function annotate(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(annotate);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'doc') out[key] = annotate(value);
  }
  const doc = node.doc as FieldDoc | undefined;
  if (doc && typeof doc.doc === 'string') {
    const hasType = 'type' in out || 'enum' in out || 'const' in out || 'anyOf' in out || 'oneOf' in out;
    if (!hasType) Object.assign(out, typeFromDoc(doc.type));
    out.description = doc.default ? `${doc.doc} Default: ${doc.default}.` : doc.doc;
    out.markdownDescription = out.description;
    out['x-origin'] = doc.origin;
  }
  return out;
}

function convert(schema: v.GenericSchema, entries: Record<string, v.GenericSchema>): Json {
  const { $schema: _ignored, ...json } = toJsonSchema(schema, { errorMode: 'ignore', typeMode: 'input', target: 'draft-07' }) as Json;
  // A documented pipe that holds a transform loses its metadata in the converter: put the doc back.
  const properties = json.properties as Record<string, Json> | undefined;
  for (const [name, entry] of Object.entries(entries)) {
    const doc = fieldDocOf(entry);
    if (doc && properties?.[name] && !('doc' in properties[name])) properties[name] = { ...properties[name], doc };
  }
  return annotate(json) as Json;
}

/** The whole document: definitions for the oauth2 block and the plugin options, and an opencode.json overlay. */
export function buildConfigSchema(): Json {
  const oauth2 = convert(providerSchema as unknown as v.GenericSchema, providerEntries as unknown as Record<string, v.GenericSchema>);
  const runtime = convert(runtimeSchema as unknown as v.GenericSchema, runtimeEntries as unknown as Record<string, v.GenericSchema>);
  // Shape-A blocks take id and baseURL from the provider entry; shape-B servers must carry them.
  const { required: _r, ...oauth2Open } = oauth2;
  const server = { allOf: [{ $ref: '#/definitions/oauth2' }], required: ['id', 'baseURL'] };
  const pluginOptions = {
    type: 'object',
    description: `Options of the plugin entry ["${PLUGIN_NAME}", {…}]: the runtime fields and, optionally, servers (the reference's pluginConfig.oauth2ModelSync shape).`,
    properties: {
      ...(runtime.properties as Json),
      servers: { type: 'array', items: server, description: 'Providers in the reference plugin\'s shape B.' },
    },
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://opencode-oauth-machines.invalid/${SCHEMA_FILE}`,
    title: `${PLUGIN_NAME} configuration`,
    description: `The parts of opencode.json that ${PLUGIN_NAME} reads. Generated from src/config by test/deploy/support/jsonSchema.ts (node scripts/gen-schema.mjs); do not edit.`,
    type: 'object',
    properties: {
      plugin: {
        type: 'array',
        items: {
          anyOf: [
            { type: 'string' },
            {
              type: 'array',
              minItems: 1,
              maxItems: 2,
              items: [{ type: 'string' }, { $ref: '#/definitions/pluginOptions' }],
            },
          ],
        },
      },
      provider: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: {
            options: {
              type: 'object',
              properties: {
                oauth2: { $ref: '#/definitions/oauth2' },
                oauth2ModelSync: { $ref: '#/definitions/oauth2' },
              },
            },
          },
        },
      },
      pluginConfig: {
        type: 'object',
        properties: { oauth2ModelSync: { $ref: '#/definitions/pluginOptions' } },
      },
    },
    definitions: { oauth2: oauth2Open, runtime, pluginOptions },
  };
}

export function renderConfigSchema(): string {
  return `${JSON.stringify(buildConfigSchema(), null, 2)}\n`;
}

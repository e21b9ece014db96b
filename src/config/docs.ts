import * as v from 'valibot';
import { fieldDocOf } from './rules.js';
import { providerEntries } from './providerSchema.js';
import { runtimeEntries } from './runtimeSchema.js';
import { TOKEN_SOURCE_VARIANTS } from './tokenSource.js';

/**
 * The field tables of docs/config.md, rendered from the schemas' own metadata so the docs cannot drift
 * from what is validated (test/config/docs.test.ts compares them, and rewrites them with UPDATE_DOCS=1).
 */

export const DOCS_BEGIN = '<!-- generated:config-fields:begin (src/config/docs.ts; UPDATE_DOCS=1 npx vitest run test/config/docs.test.ts) -->';
export const DOCS_END = '<!-- generated:config-fields:end -->';

const cell = (text: string) => text.replace(/\n/g, ' ');

function defaultText(schema: v.GenericSchema, explicit: string | undefined): string {
  if (explicit !== undefined) return explicit;
  if (schema.type !== 'optional') return 'required';
  const value = v.getDefault(schema as Parameters<typeof v.getDefault>[0]);
  if (value === undefined) return '—';
  return `\`${JSON.stringify(value)}\``;
}

function fieldRows(entries: Record<string, v.GenericSchema>, skip: readonly string[] = []): string[] {
  return Object.entries(entries)
    .filter(([name]) => !skip.includes(name))
    .map(([name, schema]) => {
      const doc = fieldDocOf(schema);
      if (!doc) throw new Error(`config field ${name} has no documentation`);
      return `| \`${name}\` | ${doc.type} | ${cell(defaultText(schema, doc.default))} | ${doc.origin} | ${cell(doc.doc)} |`;
    });
}

const HEADER = ['| Field | Type | Default | Origin | Meaning |', '|---|---|---|---|---|'];

export function renderConfigTables(): string {
  const lines: string[] = [DOCS_BEGIN, '', '### Provider fields', '', ...HEADER, ...fieldRows(providerEntries), ''];
  lines.push('### `subjectTokenSource` / `actorTokenSource` types', '');
  for (const [type, schema] of Object.entries(TOKEN_SOURCE_VARIANTS)) {
    const origin = type === 'command' || type === 'url' ? 'new' : 'reference';
    lines.push(`#### \`{"type": "${type}"}\` (${origin})`, '', ...HEADER);
    lines.push(...fieldRows(schema.entries as Record<string, v.GenericSchema>, ['type']), '');
  }
  lines.push('### Runtime fields (top level of `pluginConfig.oauth2ModelSync` or of the plugin options)', '');
  lines.push(...HEADER, ...fieldRows(runtimeEntries), '', DOCS_END);
  return lines.join('\n');
}

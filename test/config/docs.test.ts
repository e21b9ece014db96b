import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DOCS_BEGIN, DOCS_END, renderConfigTables } from '../../src/config/docs.js';
import { PROVIDER_FIELDS, RUNTIME_FIELDS, TOKEN_SOURCE_TYPES } from '../../src/config/index.js';

const DOC = new URL('../../docs/config.md', import.meta.url);

describe('docs/config.md', () => {
  it('carries the field tables generated from the schemas', async () => {
    const text = await readFile(DOC, 'utf8');
    const start = text.indexOf(DOCS_BEGIN);
    const end = text.indexOf(DOCS_END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const rendered = renderConfigTables();
    const current = text.slice(start, end + DOCS_END.length);
    if (current !== rendered && process.env.UPDATE_DOCS === '1') {
      await writeFile(DOC, text.slice(0, start) + rendered + text.slice(end + DOCS_END.length));
      return;
    }
    expect(current).toBe(rendered);
  });

  it('documents every provider field, every runtime field and every source type', () => {
    const rendered = renderConfigTables();
    for (const field of [...PROVIDER_FIELDS, ...RUNTIME_FIELDS]) expect(rendered).toContain(`| \`${field}\` |`);
    for (const type of TOKEN_SOURCE_TYPES) expect(rendered).toContain(`{"type": "${type}"}`);
  });
});

/** README.md: exactly the two set-up commands (the demo and the tests), and a link to every guide. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeBlocks, markdownLinks } from './support/markdown.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README.md', () => {
  it('has exactly two set-up commands: the demo and the tests', () => {
    const commands = codeBlocks(README)
      .filter((block) => block.lang === 'sh')
      .flatMap((block) => block.code.split('\n'))
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.demo).toBeDefined();
    expect(scripts.test).toBeDefined();
  });

  it('links every guide, and every relative link resolves', () => {
    const links = markdownLinks(README);
    for (const guide of ['install', 'github-actions', 'kubernetes', 'migration', 'troubleshooting']) {
      expect(links).toContain(`docs/${guide}.md`);
    }
    const relative = links.filter((link) => !/^[a-z]+:/i.test(link) && !link.startsWith('#'));
    expect(relative.filter((link) => !existsSync(path.join(ROOT, link.split('#')[0]!)))).toEqual([]);
  });
});

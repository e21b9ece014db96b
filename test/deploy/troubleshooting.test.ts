/**
 * docs/troubleshooting.md is keyed by the exact messages: every error code has an entry `## <code>` (anchor
 * `#<code>`) with a symptom, a cause and a fix, and the fixed words of every message raised in src/ appear in
 * the entry of its code (or, for messages whose code is chosen at run time, somewhere on the page).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as engine from '../../src/engine.js';
import * as errors from '../../src/errors.js';
import { headings } from './support/markdown.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/troubleshooting.md'), 'utf8');

/** `TOKEN_ERROR_CODES` when src/errors.ts (or the engine entry) exports it, else the members of its `TokenErrorCode` union. */
function errorCodes(): string[] {
  const exported = (errors as Record<string, unknown>).TOKEN_ERROR_CODES ?? (engine as Record<string, unknown>).TOKEN_ERROR_CODES;
  if (Array.isArray(exported)) return exported.map(String);
  const source = readFileSync(path.join(ROOT, 'src/errors.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  const union = /export type TokenErrorCode\s*=([\s\S]*?);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'([a-z_]+)'/g)].map((match) => match[1]!);
}

/** The text of `## <code>` up to the next `## `. */
function section(code: string): string {
  const start = DOC.indexOf(`\n## ${code}\n`);
  if (start < 0) return '';
  const end = DOC.indexOf('\n## ', start + 4);
  return DOC.slice(start, end < 0 ? undefined : end);
}

/** GitHub's heading anchor: lower-case, spaces to "-", punctuation other than "-" and "_" dropped. */
const anchorOf = (heading: string) => heading.toLowerCase().replace(/[^\w\s-]/g, '').replace(/\s/g, '-');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

interface RaisedMessage {
  file: string;
  code: string | undefined;
  fragment: string;
}

/** The longest literal run of a message (between `${…}` holes), normalised to single spaces. */
function fixedWords(literal: string): string {
  const text = literal.slice(1, -1);
  const runs = text.split(/\$\{(?:[^{}]|\{[^{}]*\})*\}/);
  return (
    runs
      .map((run) => run.replace(/\s+/g, ' ').replace(/^[\s:;,"'(]+|[\s:;,"'(]+$/g, ''))
      .sort((a, b) => b.length - a.length)[0] ?? ''
  );
}

/** Messages given to `new TokenError({...})`, `flowError(…)` and the lifecycle's `loginRequired(…)`. */
function raisedMessages(): RaisedMessage[] {
  const found: RaisedMessage[] = [];
  const literal = String.raw`(\x60(?:[^\x60\\]|\\.)*\x60|'(?:[^'\\]|\\.)*')`;
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const source = readFileSync(file, 'utf8');
    const rel = path.relative(ROOT, file);
    for (const match of source.matchAll(/new TokenError\(\{([\s\S]*?)\}\)/g)) {
      const body = match[1]!;
      const message = new RegExp(String.raw`message:\s*${literal}`).exec(body)?.[1];
      if (!message) continue;
      found.push({ file: rel, code: /code:\s*'([a-z_]+)'/.exec(body)?.[1], fragment: fixedWords(message) });
    }
    const calls = new RegExp(String.raw`(?:flowError|loginRequired)\(\s*[\w.]+,\s*'([a-z_]+)',\s*${literal}`, 'g');
    for (const match of source.matchAll(calls)) {
      found.push({ file: rel, code: match[1], fragment: fixedWords(match[2]!) });
    }
  }
  return found;
}

describe('docs/troubleshooting.md', () => {
  const codes = errorCodes();

  it('knows the error codes (from TOKEN_ERROR_CODES or the TokenErrorCode union)', () => {
    expect(codes.length).toBeGreaterThanOrEqual(15);
    expect(codes).toContain('invalid_grant');
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('has an entry `## <code>` for every error code, whose anchor is the code itself', () => {
    const titles = headings(DOC, 2);
    const missing = codes.filter((code) => !titles.includes(code));
    expect(missing).toEqual([]);
    for (const code of codes) expect(anchorOf(code)).toBe(code);
  });

  it('gives every entry a symptom, a cause and a fix', () => {
    const incomplete = codes.filter((code) => {
      const text = section(code);
      return !(text.includes('**Symptom**') && text.includes('**Cause**') && text.includes('**Fix**'));
    });
    expect(incomplete).toEqual([]);
  });

  it('quotes the fixed words of every message raised in src/ in the entry of its code', () => {
    const messages = raisedMessages();
    expect(messages.length).toBeGreaterThan(30);
    const flat = (text: string) => text.replace(/\s+/g, ' ');
    const missing = messages
      .filter((message) => message.fragment.length >= 12)
      .filter((message) => {
        const where = message.code && codes.includes(message.code) ? section(message.code) : DOC;
        return !flat(where).includes(message.fragment);
      })
      .map((message) => `${message.code ?? '(run-time code)'} ${message.file}: "${message.fragment}"`);
    expect(missing).toEqual([]);
  });

  it('links only to anchors that exist on the page', () => {
    const anchors = new Set([...DOC.matchAll(/^#{2,4} (.*)$/gm)].map((match) => anchorOf(match[1]!)));
    const links = [...DOC.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });
});

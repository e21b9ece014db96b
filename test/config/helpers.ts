import { parseOpenCodeConfig, type ParseOptions } from '../../src/config/index.js';

export const BASE = 'https://ai.corp.example/v1';
export const ISSUER = 'https://login.corp.example/realms/ai';
export const MINIMAL = { issuer: ISSUER, clientId: 'opencode', scopes: ['openid', 'offline_access'] };

/** A config with one shape-A provider `corp` whose oauth2 block is `block`. */
export function shapeA(block: unknown, provider: Record<string, unknown> = {}) {
  return { provider: { corp: { ...provider, options: { baseURL: BASE, oauth2: block, ...(provider.options as object) } } } };
}

export function parseBlock(block: unknown, options?: ParseOptions) {
  return parseOpenCodeConfig(shapeA(block), options);
}

export function messagesOf(block: unknown): string[] {
  return parseBlock(block).errors.map((issue) => issue.message);
}

export function warningsOf(block: unknown): string[] {
  return parseBlock(block).warnings.map((issue) => issue.message);
}

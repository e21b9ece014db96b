import { scrubKnownSecrets, scrubSecrets } from '../redact.js';

/**
 * Authorization servers answer in JSON (RFC 6749 §5.1), but some answer form-encoded (GitHub without
 * `Accept`, older Facebook), and proxies in front of them answer with HTML error pages. This reads all three.
 */
export type ParsedBody =
  | { kind: 'json'; value: Record<string, unknown> }
  | { kind: 'form'; value: Record<string, string> }
  /** JSON that is not an object (an array, a string, a number). */
  | { kind: 'json_other' }
  | { kind: 'html' }
  | { kind: 'text' }
  | { kind: 'empty' };

const FORM_BODY = /^[A-Za-z0-9_.~%+-]+=[^&\s]*(?:&[A-Za-z0-9_.~%+-]+=[^&\s]*)*$/;

export function parseResponseBody(headers: Headers, bodyText: string): ParsedBody {
  const text = bodyText.trim();
  if (!text) return { kind: 'empty' };
  const contentType = (headers.get('content-type') ?? '').toLowerCase();
  const looksJson = contentType.includes('json') || text.startsWith('{') || text.startsWith('[');
  if (looksJson) {
    try {
      const value: unknown = JSON.parse(text);
      return value && typeof value === 'object' && !Array.isArray(value)
        ? { kind: 'json', value: value as Record<string, unknown> }
        : { kind: 'json_other' };
    } catch {
      // Fall through: a proxy may label an HTML page as JSON.
    }
  }
  if (contentType.includes('x-www-form-urlencoded') || FORM_BODY.test(text)) {
    try {
      return { kind: 'form', value: Object.fromEntries(new URLSearchParams(text)) };
    } catch {
      return { kind: 'text' };
    }
  }
  if (contentType.includes('html') || /^<(?:!doctype|html|head|body)/i.test(text)) return { kind: 'html' };
  return { kind: 'text' };
}

/** The members of a JSON or form body, or undefined for anything else. */
export function bodyMembers(body: ParsedBody): Record<string, unknown> | undefined {
  return body.kind === 'json' || body.kind === 'form' ? body.value : undefined;
}

/**
 * A short, single-line, secret-free description of a body for error messages: the `<title>` (or visible
 * text) of an HTML page rather than its markup, whitespace collapsed, scrubbed, cut to `max` characters.
 */
export function bodyPreview(headers: Headers, bodyText: string, max = 120, knownSecrets: readonly string[] = []): string {
  const parsed = parseResponseBody(headers, bodyText);
  let text: string;
  if (parsed.kind === 'empty') return 'empty body';
  if (parsed.kind === 'html') {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(bodyText)?.[1];
    text = decodeEntities(
      (title ?? bodyText)
        .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
        .replace(/<[^>]*>/g, ' '),
    );
  } else {
    text = bodyText;
  }
  const oneLine = scrubSecrets(toOneLine(scrubKnownSecrets(text, knownSecrets)), knownSecrets);
  const cut = oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
  // Cutting may split a secret so the remainder no longer matches a shape: scrub the cut text again.
  return scrubSecrets(cut);
}

/**
 * Control characters and runs of whitespace as one space. Known secrets are scrubbed before this: a secret
 * with a tab or a newline in it no longer matches itself once collapsed.
 */
function toOneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

function decodeEntities(text: string): string {
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** A content type safe to print: media type only, no parameters. */
export function mediaType(headers: Headers): string {
  return (headers.get('content-type') ?? 'no content-type').split(';')[0]!.trim().toLowerCase() || 'no content-type';
}

/**
 * An OAuth `error` value fit to show: RFC 6749 §5.2 limits it to printable ASCII without `"` and `\`.
 * Anything else (or anything long) is not an error code and is dropped.
 */
export function safeOAuthError(value: unknown, knownSecrets: readonly string[] = []): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return undefined;
  if (!/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(value)) return undefined;
  const scrubbed = scrubSecrets(value, knownSecrets);
  return scrubbed === value ? value : undefined;
}

/** `error_description` fit to show: scrubbed, one line, at most `max` characters. */
export function safeDescription(value: unknown, max = 200, knownSecrets: readonly string[] = []): string | undefined {
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const oneLine = scrubSecrets(toOneLine(scrubKnownSecrets(value, knownSecrets)), knownSecrets);
  return scrubSecrets(oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine);
}

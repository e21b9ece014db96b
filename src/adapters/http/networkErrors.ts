/**
 * What a thrown fetch failure tells us about whether the request reached the server. This is the line
 * the strict refresh-token policy stands on: a refresh token may be re-sent only when the first try
 * provably never left this machine.
 */

export type NetworkFailureKind =
  /** Nothing was written to the server (DNS failure, refused connection, unreachable network). */
  | 'not_sent'
  /** The TLS handshake failed: nothing was sent, and retrying will not help (certificate or CA problem). */
  | 'tls'
  /** The request may have been written (reset mid-exchange, socket closed, unknown failure). */
  | 'maybe_sent'
  /** Our per-attempt timeout fired; the request may have been processed. */
  | 'timeout'
  /** The caller's signal aborted. */
  | 'aborted';

export interface NetworkFailure {
  kind: NetworkFailureKind;
  /** The system or library code (ECONNREFUSED, UND_ERR_SOCKET, ConnectionRefused…), safe to show. */
  code?: string;
}

// Node (libuv / undici) and Bun spellings of "the connection never opened".
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EAI_FAIL',
  'EAI_NODATA',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ConnectionRefused',
  'FailedToOpenSocket',
  'DNSError',
]);

const TLS_CODE = /^(CERT_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_SSL_|HOSTNAME_MISMATCH|TLSV1_ALERT)/;

/** Every `code` along the error's cause chain (undici puts the socket error in `cause`). */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

export function classifyNetworkError(
  error: unknown,
  context: { timedOut: boolean; callerAborted: boolean },
): NetworkFailure {
  if (context.callerAborted) return { kind: 'aborted' };
  if (context.timedOut) return { kind: 'timeout' };
  const codes = codesOf(error);
  const notSent = codes.find((code) => NOT_SENT_CODES.has(code));
  if (notSent) return { kind: 'not_sent', code: notSent };
  const tls = codes.find((code) => TLS_CODE.test(code));
  if (tls) return { kind: 'tls', code: tls };
  const code = codes[0];
  return code && /^[A-Za-z0-9_]{1,40}$/.test(code) ? { kind: 'maybe_sent', code } : { kind: 'maybe_sent' };
}

/** Short, secret-free words for a failure, for error messages and logs. */
export function describeNetworkFailure(failure: NetworkFailure): string {
  const suffix = failure.code ? ` (${failure.code})` : '';
  switch (failure.kind) {
    case 'not_sent':
      return `could not connect${suffix}`;
    case 'tls':
      return `TLS handshake failed${suffix}`;
    case 'timeout':
      return 'no answer before the per-attempt timeout';
    case 'aborted':
      return 'the request was cancelled';
    case 'maybe_sent':
      return `the connection failed during the exchange${suffix}`;
  }
}

import type { LogLevel, Logger } from './logger.js';
import { redactFields } from './redact.js';

/** Where redacted log records go: the OpenCode `client.app.log`, a JSON-lines stream, a test array. */
export type LogSink = (level: LogLevel, event: string, fields: Record<string, unknown>) => void;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A Logger that redacts before anything reaches the sink: secret fields by name and shape
 * (`redactFields`), every remaining string by shape (`scrubSecrets`). Records below `minLevel` are dropped
 * before any work. A throwing sink never breaks the caller: logging is not worth a failed token request.
 */
export function createRedactingLogger(sink: LogSink, minLevel: LogLevel = 'info'): Logger {
  const emit = (level: LogLevel) => (event: string, fields?: Record<string, unknown>) => {
    if (LEVEL_RANK[level] < LEVEL_RANK[minLevel]) return;
    try {
      sink(level, event, redactFields(fields ?? {}, { scrubStrings: true }));
    } catch {
      // A broken sink must not turn into a failed request.
    }
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** Wrap any Logger (for instance one handed in by an embedding agent) so it only ever sees redacted fields. */
export function withRedaction(logger: Logger, minLevel: LogLevel = 'debug'): Logger {
  return createRedactingLogger((level, event, fields) => logger[level](event, fields), minLevel);
}

/**
 * One JSON object per line on stderr: `{"ts":…,"level":…,"event":…,…fields}`. Stderr because stdout may
 * belong to the host (OpenCode's TUI, a CLI's piped output).
 */
export function createStderrJsonLogger(
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (line) => {
    process.stderr.write(line);
  },
): Logger {
  return createRedactingLogger((level, event, fields) => {
    write(`${JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields })}\n`);
  }, minLevel);
}

import type { ErrorCode } from './errors';

export type LogLevel = 'info' | 'warn' | 'error';

/** One log event: what happened, its stable code when it is a deliberate warning or error, and details. */
export interface LogRecord {
  level: LogLevel;
  message: string;
  code?: ErrorCode;
  [detail: string]: unknown;
}

export interface Logger {
  log(record: LogRecord): void;
}

/** Writes one line per record to stderr: `geoloc <level> [<code>] <message> {details}`. */
export function stderrLogger(minLevel: LogLevel = 'info'): Logger {
  const rank: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 };
  return {
    log({ level, message, code, ...details }) {
      if (rank[level] < rank[minLevel]) return;
      const extra = Object.keys(details).length > 0 ? ` ${JSON.stringify(details)}` : '';
      process.stderr.write(`geoloc ${level}${code ? ` ${code}` : ''}: ${message}${extra}\n`);
    },
  };
}

/** Keeps every record, for tests and for reports that list what went wrong. */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];

  log(record: LogRecord): void {
    this.records.push(record);
  }

  withCode(code: ErrorCode): LogRecord[] {
    return this.records.filter((r) => r.code === code);
  }
}

export const silentLogger: Logger = { log: () => undefined };

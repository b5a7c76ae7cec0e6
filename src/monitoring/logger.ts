// Structured JSON logs (pino) on stderr, so that stdout stays for command results.
import { pino, type Logger } from 'pino';

let root: Logger | undefined;

export function logger(): Logger {
  root ??= pino(
    // An empty GOLD_LOG_LEVEL is unset, as for every setting.
    { level: process.env.GOLD_LOG_LEVEL || 'info', base: { app: 'gold' }, redact: ['password', '*.password', 'secretAccessKey', '*.secretAccessKey'] },
    pino.destination(2),
  );
  return root;
}

export function setLogLevel(level: string): void {
  logger().level = level;
}

export type { Logger };

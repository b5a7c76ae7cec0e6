// Structured JSON logs (pino) on stderr, so that stdout stays for command results.
import { type Logger, pino } from 'pino';
import { redactText } from './redact.js';

let root: Logger | undefined;

export function logger(): Logger {
  // The level is the settings' (GOLD_LOG_LEVEL): the CLI sets it once the settings are loaded.
  root ??= pino(
    {
      level: 'info',
      base: { app: 'gold' },
      redact: ['password', '*.password', 'secretAccessKey', '*.secretAccessKey'],
      // Any URL in a logged text value or message loses its secrets (a connection string in an error, say).
      formatters: { log: (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? redactText(v) : v])) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    pino.destination(2),
  );
  return root;
}

export function setLogLevel(level: string): void {
  logger().level = level;
}

export type { Logger };

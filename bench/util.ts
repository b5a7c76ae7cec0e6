// Shared by the benchmarks: peak memory and a uniform printout (a table for people, a JSON line for scripts).
import { cpus, totalmem } from 'node:os';

export function peakRss(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function report(name: string, figures: Record<string, number | string>): void {
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 1024 ** 3)} GiB`;
  process.stdout.write(`\n${name} benchmark (${new Date().toISOString().slice(0, 10)}, ${machine})\n`);
  for (const [k, v] of Object.entries(figures))
    process.stdout.write(`  ${k.padEnd(32)} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(3)) : v}\n`);
  process.stdout.write(`${JSON.stringify({ bench: name, machine, ...figures })}\n`);
}

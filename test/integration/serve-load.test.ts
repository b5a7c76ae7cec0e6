// `gold serve` (the built CLI, default limits) under hostile loads on loopback, bounded in count and
// time: slow clients are cut off by the header and request timeouts, large bodies are refused before
// they are read, and the server's memory stays flat. Prints its figures (BENCHMARKS.md).
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config/serve.js';
import { tempDir } from '../support/env.js';
import { type ServeProcess, startServeProcess } from '../support/serve-process.js';

const SLOW_CLIENTS = 100;
const BIG_REQUESTS = 40;
const BIG_BYTES = 4 * 1024 * 1024;

let serve: ServeProcess;
let port: number;
beforeAll(async () => {
  serve = await startServeProcess({ GOLD_HOME: tempDir('gold-serve-load-'), GOLD_ONLINE_STORE: 'embedded', GOLD_LOG_LEVEL: 'warn' });
  port = Number(new URL(serve.address).port);
});
afterAll(() => serve?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (x: number) => Math.round(x);

/** A client that sends `head` at once, then one byte a second (never finishing) until the server closes it or 30 s pass. */
function slowClient(head: string): { socket: Socket; closed: Promise<number> } {
  const socket = connect(port, '127.0.0.1');
  const opened = Date.now();
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.write(head);
  const drip = setInterval(() => socket.write('a'), 1000);
  const stop = setTimeout(() => socket.destroy(), 30_000);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(drip);
      clearTimeout(stop);
      resolve(Date.now() - opened);
    }),
  );
  return { socket, closed };
}

describe('gold serve under slow clients', () => {
  it(`drops ${SLOW_CLIENTS} slow-body and ${SLOW_CLIENTS} partial-header clients within the request timeout, memory flat`, async () => {
    const before = serve.memory();
    const bodies = Array.from({ length: SLOW_CLIENTS }, () =>
      slowClient(`POST /get-online-features HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`),
    );
    const headers = Array.from({ length: SLOW_CLIENTS }, () => slowClient('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
    const all = [...bodies, ...headers];
    let open = all.length;
    for (const c of all) void c.closed.then(() => open--);
    await sleep(3000);
    const heldAt3s = open;
    const during = serve.memory();
    const durations = await Promise.all(all.map((c) => c.closed));
    const after = serve.memory();
    const bodyMax = Math.max(...(await Promise.all(bodies.map((c) => c.closed))));
    const headerMax = Math.max(...(await Promise.all(headers.map((c) => c.closed))));
    const figures = {
      clients: all.length,
      heldAfter3s: heldAt3s,
      slowBodyDroppedWithinS: bodyMax / 1000,
      partialHeaderDroppedWithinS: headerMax / 1000,
      rssBeforeMb: mb(before.rssMb),
      rssDuringMb: mb(during.rssMb),
      rssAfterMb: mb(after.rssMb),
      peakMb: mb(after.peakMb),
    };
    process.stdout.write(`serve-load slow clients: ${JSON.stringify(figures)}\n`);
    // Held while within their time, then every one dropped: none outlives the request timeout by more than the check interval and a margin.
    expect(heldAt3s).toBe(all.length);
    const bound = DEFAULT_LIMITS.requestTimeoutMs + DEFAULT_LIMITS.checkIntervalMs + 2000;
    expect(Math.max(...durations)).toBeLessThan(bound);
    expect(headerMax).toBeLessThan(DEFAULT_LIMITS.headersTimeoutMs + DEFAULT_LIMITS.checkIntervalMs + 2000);
    expect(after.peakMb - before.rssMb).toBeLessThan(60);
    // The server still serves.
    expect((await fetch(`${serve.address}/health`)).status).toBe(200);
  }, 60_000);
});

describe('gold serve under large bodies', () => {
  /** Sends one 4 MB body (announced with Content-Length, or chunked without it); the status, or 0 when the server cut the connection. */
  async function bigRequest(chunked: boolean): Promise<number> {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= BIG_BYTES) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    try {
      const res = await fetch(`${serve.address}/get-online-features`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(BIG_BYTES) }) },
        body: chunked ? stream : Buffer.alloc(BIG_BYTES, 0x20),
        ...(chunked ? { duplex: 'half' } : {}),
      } as RequestInit);
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  it(`refuses ${BIG_REQUESTS} concurrent 4 MB requests, announced or chunked, before reading them, memory flat`, async () => {
    const before = serve.memory();
    const t0 = Date.now();
    const announced = await Promise.all(Array.from({ length: BIG_REQUESTS }, () => bigRequest(false)));
    const announcedS = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    const chunked = await Promise.all(Array.from({ length: BIG_REQUESTS }, () => bigRequest(true)));
    const chunkedS = (Date.now() - t1) / 1000;
    await sleep(500);
    const after = serve.memory();
    const count = (xs: number[]) => Object.fromEntries([...new Set(xs)].map((s) => [s, xs.filter((x) => x === s).length]));
    const figures = {
      requests: BIG_REQUESTS * 2,
      announcedStatuses: count(announced),
      announcedS,
      chunkedStatuses: count(chunked),
      chunkedS,
      rssBeforeMb: mb(before.rssMb),
      peakMb: mb(after.peakMb),
      rssAfterMb: mb(after.rssMb),
    };
    process.stdout.write(`serve-load large bodies: ${JSON.stringify(figures)}\n`);
    // 413, or (when the client was still sending as the server answered and closed) the connection
    // cut: never a 2xx or a 5xx.
    for (const s of [...announced, ...chunked]) expect([413, 0]).toContain(s);
    expect([...announced, ...chunked].filter((s) => s === 413).length).toBeGreaterThan(0);
    expect(after.peakMb - before.rssMb).toBeLessThan(120);
    expect(after.rssMb - before.rssMb).toBeLessThan(60);
    expect((await fetch(`${serve.address}/health`)).status).toBe(200);
  }, 60_000);
});

// Real servers for tests: the Temporal CLI dev server, SeaweedFS (S3) and Redis, as child processes on
// free ports. Used by the global setup (one of each per test run) and by tests that must stop and restart
// a server themselves.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { temporalReachable } from '../../src/temporal/connection.js';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../src/temporal/search-attributes.js';
import { temporalCli, weedBin } from '../../src/tools/binaries.js';

// Ports for servers are drawn below the kernel's ephemeral range (32768 and up): a port the kernel
// handed out as free could be taken by another test's outgoing connection before the server binds it.
const PORTS_FROM = 20_000;
const PORTS_TO = 32_000;

/** A port free now (with its +1000 neighbour still below the ephemeral range). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = PORTS_FROM + Math.floor(Math.random() * (PORTS_TO - 1000 - PORTS_FROM));
    if (await portFree(p)) return p;
  }
  throw new Error('no free port');
}

export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free port whose +10000 neighbour (SeaweedFS's gRPC port) is free too. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const p = PORTS_FROM + Math.floor(Math.random() * (PORTS_TO - 10_000 - PORTS_FROM));
    if ((await portFree(p)) && (await portFree(p + 10000))) return p;
  }
  throw new Error('no free port pair');
}

/** Waits for check(); fails at the deadline, or as soon as the server's process has exited. */
async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, log?: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const tail = (): string => (log ? `:\n${readFileSync(log, 'utf8').slice(-2000)}` : '');
  while (Date.now() < deadline) {
    if (await check()) return;
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${what} exited before it started${tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start in ${timeoutMs / 1000}s${tail()}`);
}

export interface TemporalServer {
  address: string;
  uiPort: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A Temporal dev server; tried three times, since one of the ports it binds may have been taken meanwhile. */
export async function startTemporal(opts: { dbFile?: string; port?: number } = {}): Promise<TemporalServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTemporalOnce(opts);
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

async function startTemporalOnce(opts: { dbFile?: string; port?: number }): Promise<TemporalServer> {
  const port = opts.port ?? (await freePort());
  const uiPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gold-temporal-'));
  const log = join(dir, 'temporal.log');
  const out = openSync(log, 'a');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--log-level',
    'warn',
    ...SEARCH_ATTRIBUTE_FLAGS.flatMap((a) => ['--search-attribute', a]),
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
  ];
  const child = spawn(temporalCli(), args, { stdio: ['ignore', out, out] });
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntil('Temporal dev server', 60_000, () => temporalReachable(address, 1000), log, child);
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { address, uiPort, process: child, stop: () => stopChild(child) };
}

export interface S3Server {
  endpoint: string;
  bucket: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'gold-test'): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'gold-weed-'));
  const [master, volume, filer, s3] = [await freePortPair(), await freePortPair(), await freePortPair(), await freePortPair()];
  const log = join(dir, 'weed.log');
  const out = openSync(log, 'a');
  const child = spawn(
    weedBin(),
    [
      'server',
      `-dir=${dir}`,
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      `-master.port=${master}`,
      `-volume.port=${volume}`,
      '-filer',
      `-filer.port=${filer}`,
      '-s3',
      `-s3.port=${s3}`,
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      '-volume.max=20',
      '-master.volumeSizeLimitMB=256',
    ],
    { stdio: ['ignore', out, out] },
  );
  const endpoint = `http://127.0.0.1:${s3}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await waitUntil(
    'SeaweedFS S3',
    60_000,
    async () => {
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        return true;
      } catch (e) {
        return (e as { name?: string }).name === 'BucketAlreadyOwnedByYou' || (e as { name?: string }).name === 'BucketAlreadyExists';
      }
    },
    log,
  );
  client.destroy();
  return { endpoint, bucket, process: child, stop: () => stopChild(child) };
}

export interface RedisServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * A redis-server of its own on a free port, no persistence: for tests that stop it or change its
 * config. With `tls` (PEM file paths), it speaks TLS only, and the URL is rediss://.
 */
export async function startRedis(extraArgs: string[] = [], tls?: { cert: string; key: string; ca: string }): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gold-redis-'));
  const log = join(dir, 'redis.log');
  const listen = tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        tls.cert,
        '--tls-key-file',
        tls.key,
        '--tls-ca-cert-file',
        tls.ca,
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', String(port)];
  const child = spawn('redis-server', [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', log, ...extraArgs], {
    stdio: 'ignore',
  });
  await waitUntil('redis-server', 20_000, async () => !(await portFree(port)), log);
  return { url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, process: child, stop: () => stopChild(child) };
}

/** A throwaway CA and a server certificate it signed for 127.0.0.1 (PEM files in a temp folder). */
export function testCertificates(): { cert: string; key: string; ca: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gold-certs-'));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=gold-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '2',
    '-extfile',
    f('san.ext'),
  );
  return { cert: f('server.crt'), key: f('server.key'), ca: f('ca.crt') };
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

// Bulk writes to Redis in its wire protocol, the way Redis documents mass insertion: a client that
// builds a command object and a promise per SET spends more time than Redis does, so the writes of a
// chunk are encoded straight into one buffer and sent on a connection of their own.
//
// A chunk goes as optimistic transactions on the view's watermark (see redis-store.ts), each of a
// bounded number of rows so that reads interleave:
//   WATCH mark; GET mark            -> the mark is missing, provisional or above the header: UNWATCH, the
//                                      caller compares row by row
//   MULTI; SET ... PXAT ... (each row); [SET mark header]; EXEC; then the next WATCH mark; GET mark
// EXEC fails (nil) when another writer moved the mark in between; the transaction is then tried again.
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { isFinalMark } from './redis-watermark.js';

export interface BulkConnectionOptions {
  host: string;
  port: number;
  username?: string | null;
  password?: string | null;
  db?: number;
  tls?: ConnectionOptions;
  connectTimeoutMs?: number;
  /**
   * The connection fails when its socket has been silent this long (default 60 s): a request to a Redis
   * that stopped answering fails instead of hanging, and a connection idle in a pool that long closes.
   */
  idleTimeoutMs?: number;
}

export const DEFAULT_BULK_IDLE_TIMEOUT_MS = 60_000;

export class RedisBulkError extends Error {
  override name = 'RedisBulkError';
}

/** A RESP2 reply: simple strings and bulk strings as string, nil as null, errors as RedisReplyError. */
type Reply = string | number | null | RedisReplyError | Reply[];

export class RedisReplyError {
  constructor(readonly message: string) {}
}

const CRLF = Buffer.from('\r\n');

/** `*<n>\r\n` then each argument as `$<len>\r\n<bytes>\r\n`. */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply at `at`; returns it with the offset after it, or undefined when the buffer ends
 * before the reply does.
 */
export function parseReply(buf: Buffer, at: number): { reply: Reply; next: number } | undefined {
  const eol = buf.indexOf(CRLF, at);
  if (eol < 0) return undefined;
  const type = buf[at];
  const line = buf.toString('latin1', at + 1, eol);
  switch (type) {
    case 0x2b: // +
      return { reply: line, next: eol + 2 };
    case 0x2d: // -
      return { reply: new RedisReplyError(line), next: eol + 2 };
    case 0x3a: // :
      return { reply: Number(line), next: eol + 2 };
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return { reply: null, next: eol + 2 };
      if (buf.length < eol + 2 + n + 2) return undefined;
      return { reply: buf.toString('utf8', eol + 2, eol + 2 + n), next: eol + 2 + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { reply: null, next: eol + 2 };
      const items: Reply[] = [];
      let next = eol + 2;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, next);
        if (!r) return undefined;
        items.push(r.reply);
        next = r.next;
      }
      return { reply: items, next };
    }
    default:
      throw new RedisBulkError(`unexpected byte ${type} in a Redis reply`);
  }
}

/** One connection: requests are written whole and their replies read back in order. */
export class RedisBulkConnection {
  private socket?: Socket;
  private ready?: Promise<void>;
  private pending: Buffer = Buffer.alloc(0);
  private waiters: { count: number; replies: Reply[]; resolve: (r: Reply[]) => void; reject: (e: Error) => void }[] = [];
  private failed?: Error;

  constructor(private readonly opts: BulkConnectionOptions) {}

  /** Connects (once), authenticates and selects the database. */
  open(): Promise<void> {
    this.ready ??= this.connect().catch((e: Error) => {
      this.fail(e);
      throw e;
    });
    return this.ready;
  }

  private async connect(): Promise<void> {
    const { host, port, tls } = this.opts;
    // SNI takes a host name only (RFC 6066), not an address.
    const socket = tls ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...tls }) : netConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail(new RedisBulkError(`bulk connection to ${host}:${port}: ${e.message}`)));
    socket.on('close', () => this.fail(new RedisBulkError(`bulk connection to ${host}:${port} closed`)));
    const idleMs = this.opts.idleTimeoutMs ?? DEFAULT_BULK_IDLE_TIMEOUT_MS;
    socket.setTimeout(idleMs, () => this.fail(new RedisBulkError(`bulk connection to ${host}:${port}: no answer in ${idleMs} ms`)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RedisBulkError(`bulk connection to ${host}:${port}: no answer in ${this.opts.connectTimeoutMs ?? 3000} ms`)),
        this.opts.connectTimeoutMs ?? 3000,
      );
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new RedisBulkError(`bulk connection to ${host}:${port}: ${e.message}`));
      });
    });
    const setup: (string | Buffer)[][] = [];
    if (this.opts.password) setup.push(this.opts.username ? ['AUTH', this.opts.username, this.opts.password] : ['AUTH', this.opts.password]);
    if (this.opts.db) setup.push(['SELECT', String(this.opts.db)]);
    if (setup.length > 0) {
      const replies = await this.request(Buffer.concat(setup.map(encodeCommand)), setup.length);
      const err = replies.find((r) => r instanceof RedisReplyError);
      if (err) throw new RedisBulkError(`bulk connection to ${host}:${port}: ${(err as RedisReplyError).message}`);
    }
  }

  /** Writes `payload` (`count` commands) and resolves with their `count` replies. */
  request(payload: Buffer, count: number): Promise<Reply[]> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiters.push({ count, replies: [], resolve, reject });
      this.socket!.write(payload);
    });
  }

  private onData(d: Buffer): void {
    this.pending = this.pending.length === 0 ? d : Buffer.concat([this.pending, d]);
    let at = 0;
    try {
      while (this.waiters.length > 0) {
        const r = parseReply(this.pending, at);
        if (!r) break;
        at = r.next;
        const w = this.waiters[0]!;
        w.replies.push(r.reply);
        if (w.replies.length === w.count) {
          this.waiters.shift();
          w.resolve(w.replies);
        }
      }
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.pending = at === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(at);
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const w of this.waiters.splice(0)) w.reject(this.failed);
    this.socket?.destroy();
  }

  /** Usable for another request (not closed, not broken). */
  get healthy(): boolean {
    return this.failed === undefined;
  }

  close(): void {
    this.failed ??= new RedisBulkError('bulk connection closed');
    this.socket?.end();
    this.socket?.destroy();
  }
}

export interface BulkChunk {
  watermarkKey: string;
  /** The 26 header digits every record of the chunk carries. */
  header: string;
  /** Epoch ms at which every key of the chunk expires (feature_timestamp + TTL). */
  expireAt: number;
  keys: readonly string[];
  records: readonly (string | Buffer)[];
}

export interface BulkChunkResult {
  written: number;
  expired: number;
  /** Rows from this index on were not written: the watermark is above their header (compare them row by row). */
  belowFrom: number;
}

const MAX_WATCH_ATTEMPTS = 5;

/**
 * Writes a chunk whose rows share one header, in transactions of at most `perTransaction` rows
 * (each holds Redis for its length only, so reads interleave), each guarded by the view's watermark.
 * Stops at the first transaction that finds the watermark missing, provisional (being rebuilt, see
 * redis-watermark.ts) or above the header: only a final mark at or below it proves no row is newer.
 */
export async function writeBulkChunk(conn: RedisBulkConnection, chunk: BulkChunk, now: number, perTransaction: number): Promise<BulkChunkResult> {
  const n = chunk.keys.length;
  if (chunk.expireAt < now) return { written: 0, expired: n, belowFrom: n };
  await conn.open();
  const watch = Buffer.concat([encodeCommand(['WATCH', chunk.watermarkKey]), encodeCommand(['GET', chunk.watermarkKey])]);
  const multi = encodeCommand(['MULTI']);
  const exec = encodeCommand(['EXEC']);
  const raiseMark = encodeCommand(['SET', chunk.watermarkKey, chunk.header]);
  // The WATCH and GET for the next transaction ride behind each EXEC: one round trip a transaction.
  let check = await conn.request(watch, 2);
  let attempts = 0;
  for (let start = 0; start < n; ) {
    const [watched, mark] = check;
    throwIfError(watched!);
    throwIfError(mark!);
    if (!(typeof mark === 'string' && isFinalMark(mark) && mark <= chunk.header) || attempts === MAX_WATCH_ATTEMPTS) {
      throwIfError((await conn.request(encodeCommand(['UNWATCH']), 1))[0]!);
      return { written: start, expired: 0, belowFrom: start };
    }
    const end = Math.min(n, start + perTransaction);
    const raise = mark !== chunk.header;
    const more = end < n;
    const payload = [multi, encodeSets(chunk, start, end), ...(raise ? [raiseMark] : []), exec, ...(more ? [watch] : [])];
    const count = 1 + (end - start) + (raise ? 1 : 0) + 1;
    const replies = await conn.request(Buffer.concat(payload), count + (more ? 2 : 0));
    for (const r of replies.slice(0, count)) throwIfError(r);
    const aborted = replies[count - 1] === null; // another writer moved the watermark: this transaction again
    if (aborted) attempts++;
    else {
      attempts = 0;
      start = end;
    }
    if (more) check = replies.slice(count);
    else if (aborted) check = await conn.request(watch, 2);
  }
  return { written: n, expired: 0, belowFrom: n };
}

function throwIfError(r: Reply): void {
  if (r instanceof RedisReplyError) throw new RedisBulkError(`Redis refused a bulk write: ${r.message}`);
  if (Array.isArray(r)) r.forEach(throwIfError);
}

/** `SET key record PXAT expireAt` for rows [start, end), in one buffer. */
function encodeSets(chunk: BulkChunk, start: number, end: number): Buffer {
  const px = String(chunk.expireAt);
  const tail = Buffer.from(`\r\n$4\r\nPXAT\r\n$${px.length}\r\n${px}\r\n`);
  let size = 0;
  const heads: string[] = new Array(end - start);
  for (let i = start; i < end; i++) {
    const key = chunk.keys[i]!;
    const rec = chunk.records[i]!;
    const recLen = typeof rec === 'string' ? Buffer.byteLength(rec) : rec.length;
    const head = `*5\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$${recLen}\r\n`;
    heads[i - start] = head;
    size += Buffer.byteLength(head) + recLen + tail.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = start; i < end; i++) {
    at += out.write(heads[i - start]!, at);
    const rec = chunk.records[i]!;
    at += typeof rec === 'string' ? out.write(rec, at) : rec.copy(out, at);
    at += tail.copy(out, at);
  }
  return out;
}

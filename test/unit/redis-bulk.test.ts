import { describe, expect, it } from 'vitest';
import { encodeCommand, parseReply, RedisBulkError, RedisReplyError } from '../../src/online/redis-bulk.js';

describe('Redis wire protocol for bulk writes', () => {
  it('encodes a command as an array of bulk strings, counting bytes, not characters', () => {
    expect(encodeCommand(['SET', 'k', 'v']).toString()).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
    expect(encodeCommand(['GET', 'é✓']).toString()).toBe('*2\r\n$3\r\nGET\r\n$5\r\né✓\r\n');
    expect(encodeCommand([Buffer.from([0, 13, 10])])).toEqual(Buffer.concat([Buffer.from('*1\r\n$3\r\n'), Buffer.from([0, 13, 10]), Buffer.from('\r\n')]));
  });

  it('parses every reply kind, and nested arrays such as EXEC results', () => {
    const buf = Buffer.from('+OK\r\n-ERR wrong\r\n:42\r\n$5\r\nhe\r\no\r\n$-1\r\n*-1\r\n*3\r\n+OK\r\n$2\r\nab\r\n*1\r\n:1\r\n');
    const out: unknown[] = [];
    for (let at = 0; at < buf.length; ) {
      const r = parseReply(buf, at)!;
      out.push(r.reply);
      at = r.next;
    }
    expect(out).toEqual(['OK', new RedisReplyError('ERR wrong'), 42, 'he\r\no', null, null, ['OK', 'ab', [1]]]);
  });

  it('waits for the rest of a reply cut anywhere', () => {
    const full = Buffer.from('*3\r\n+QUEUED\r\n$6\r\nabcdef\r\n:7\r\n');
    for (let cut = 0; cut < full.length; cut++) expect(parseReply(full.subarray(0, cut), 0)).toBeUndefined();
    expect(parseReply(full, 0)).toEqual({ reply: ['QUEUED', 'abcdef', 7], next: full.length });
  });

  it('refuses bytes that are not a reply', () => {
    expect(() => parseReply(Buffer.from('?what\r\n'), 0)).toThrow(RedisBulkError);
  });
});

// Connection strings shown anywhere keep no secret: user info and secret-bearing query values are
// hidden whatever characters the secret holds, raw or percent-encoded; the rest stays readable.
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { redactText, redactUrl } from '../../src/shared/redact.js';

const SPECIAL = ['@', '/', ':', '%', '?', '#', '&', '='];

/** Every place a secret can stand in a URL, written raw and percent-encoded. */
function leakyUrls(c: string): string[] {
  const pw = `alpha${c}omega`;
  const enc = encodeURIComponent(pw);
  return [
    `redis://:${pw}@127.0.0.1:6379/0`,
    `redis://:${enc}@127.0.0.1:6379/0`,
    `redis://user:${pw}@127.0.0.1:6379`,
    `redis://user:${enc}@127.0.0.1:6379`,
    `redis://${pw}:x@127.0.0.1:6379`,
    `rediss://127.0.0.1:6379/0?password=${enc}`,
    `rediss://127.0.0.1:6379/0?password=${pw}`,
    `redis://127.0.0.1:6379/0?db=1&token=${enc}`,
    `redis://127.0.0.1:6379/0?db=1&secret=${pw}&x=1`,
    `redis://127.0.0.1:6379/0?pass=${enc}`,
  ];
}

describe('redactUrl', () => {
  it.each(SPECIAL)('hides a secret holding %j wherever it stands', (c) => {
    for (const url of leakyUrls(c)) {
      const shown = redactUrl(url);
      expect(shown, url).not.toMatch(/alpha|omega/);
      expect(shown, url).toMatch(/^rediss?:\/\//);
    }
  });

  it('keeps what is harmless', () => {
    expect(redactUrl('redis://:p%40ss@127.0.0.1:6379/0')).toBe('redis://***@127.0.0.1:6379/0');
    expect(redactUrl('redis://127.0.0.1:6379/0?password=p%40ss&db=2')).toBe('redis://127.0.0.1:6379/0?***');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('redis://127.0.0.1:6379/2?family=6')).toBe('redis://127.0.0.1:6379/2?family=6');
    expect(redactUrl('s3://bucket/prefix')).toBe('s3://bucket/prefix');
    expect(redactUrl('embedded')).toBe('embedded');
  });

  it('hides the whole URL when the user info cannot be told from the rest', () => {
    // A raw '/' ends the authority early: the secret's tail would land in the path.
    expect(redactUrl('redis://u:12/secret@127.0.0.1:6379')).toBe('redis://***');
    expect(redactUrl('redis://:alpha omega@127.0.0.1')).toBe('redis://***@127.0.0.1');
  });

  it('redacts every URL inside a message', () => {
    expect(redactText('cannot reach redis://:alpha@omega@h:1/0 (and rediss://h:2?token=alpha) now')).not.toMatch(/alpha|omega/);
  });

  it('keeps secrets out of a settings error', () => {
    expect(() => loadSettings({ onlineStore: 'redis//:alpha@omega@h' }, {})).toThrow(/GOLD_ONLINE_STORE|--online-store/);
    try {
      loadSettings({ onlineStore: 'memcached://:alpha%40omega@h' }, {});
    } catch (e) {
      expect((e as Error).message).not.toMatch(/alpha|omega/);
    }
    expect.assertions(2);
  });
});

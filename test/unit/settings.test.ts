import { describe, expect, it } from 'vitest';
import { loadSettings, SettingsError, settingsEnv } from '../../src/config/settings.js';

describe('settings', () => {
  it('defaults, environment and overrides, overrides winning', () => {
    const s = loadSettings({}, {});
    expect(s.workerMaxActivities).toBe(8);
    expect(s.duckdbThreads).toBe(2);
    expect(s.onlineStore).toBe('embedded');
    expect(loadSettings({}, { GOLD_WORKER_MAX_ACTIVITIES: '16' }).workerMaxActivities).toBe(16);
    expect(loadSettings({ workerMaxActivities: 3 }, { GOLD_WORKER_MAX_ACTIVITIES: '16' }).workerMaxActivities).toBe(3);
  });

  it.each([
    ['GOLD_WORKER_MAX_ACTIVITIES', '0'],
    ['GOLD_WORKER_MAX_ACTIVITIES', 'many'],
    ['GOLD_DUCKDB_THREADS', '-1'],
    ['GOLD_DUCKDB_MEMORY', 'lots'],
    ['TEMPORAL_ADDRESS', 'localhost'],
    ['GOLD_LAKE', 'http://x'],
    ['GOLD_DUCKDB_THREADS', '0x10'],
    ['GOLD_DUCKDB_THREADS', '100000'],
    ['GOLD_DUCKDB_MEMORY', '0GB'],
    ['GOLD_METRICS_PORT', '65535'],
    ['GOLD_S3_CACHE_MAX_BYTES', '1e9'],
    ['GOLD_ALERT_WEBHOOK', 'ftp://hooks.example.com/x'],
    ['GOLD_TEMPORAL_UI', 'temporal.example.com'],
  ])('%s=%s is refused with the variable named', (name, value) => {
    expect(() => loadSettings({}, { [name]: value })).toThrow(SettingsError);
    expect(() => loadSettings({}, { [name]: value })).toThrow(`invalid setting ${name}=`);
  });

  it('names the flag when the bad value came from one, and never prints a password', () => {
    expect(() => loadSettings({ logLevel: 'loud' }, {})).toThrow('invalid setting --log-level="loud"');
    expect(() => loadSettings({}, { GOLD_ONLINE_STORE: 'memcached://:hunter2@host:11211' })).toThrow(
      'invalid setting GOLD_ONLINE_STORE="memcached://***@host:11211"',
    );
    expect(loadSettings({}, { GOLD_ONLINE_STORE: 'REDIS://127.0.0.1:6379' }).onlineStore).toBe('REDIS://127.0.0.1:6379');
    expect(loadSettings({}, { GOLD_DUCKDB_THREADS: '4', GOLD_METRICS_PORT: '0' })).toMatchObject({ duckdbThreads: 4, metricsPort: 0 });
  });

  it('optional settings: unset unless given, and handed to a child process only when set', () => {
    const unset = loadSettings({}, {});
    expect([unset.heavyTaskQueue, unset.alertWebhook, unset.temporalUi]).toEqual([undefined, undefined, undefined]);
    expect(settingsEnv(unset)).not.toHaveProperty('GOLD_HEAVY_TASK_QUEUE');
    const set = loadSettings(
      {},
      { GOLD_HEAVY_TASK_QUEUE: 'gold-heavy', GOLD_ALERT_WEBHOOK: 'https://hooks.example.com/a', GOLD_TEMPORAL_UI: 'https://temporal.example.com' },
    );
    expect(set).toMatchObject({ heavyTaskQueue: 'gold-heavy', alertWebhook: 'https://hooks.example.com/a', temporalUi: 'https://temporal.example.com' });
    expect(settingsEnv(set)).toMatchObject({ GOLD_HEAVY_TASK_QUEUE: 'gold-heavy', GOLD_ALERT_WEBHOOK: 'https://hooks.example.com/a' });
  });
});

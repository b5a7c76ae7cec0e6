import { describe, expect, it } from 'vitest';
import { loadSettings, SettingsError } from '../../src/config/settings.js';

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
  ])('%s=%s is refused with the variable named', (name, value) => {
    expect(() => loadSettings({}, { [name]: value })).toThrow(SettingsError);
    expect(() => loadSettings({}, { [name]: value })).toThrow(`invalid setting ${name}=`);
  });
});

import { describe, expect, it } from 'vitest';
import { loadSettings, SettingsError, settingsEnv } from '../../src/config/settings.js';

describe('freshness settings', () => {
  it('default to a refresh a minute and a 30 h SLA (a day plus the 6 h commit window), and pass to child processes', () => {
    expect(loadSettings({}, {})).toMatchObject({ freshnessRefreshSeconds: 60, freshnessSlaSeconds: 108_000 });
    const s = loadSettings({}, { GOLD_FRESHNESS_REFRESH_SECONDS: '5', GOLD_FRESHNESS_SLA_SECONDS: '7200' });
    expect(s).toMatchObject({ freshnessRefreshSeconds: 5, freshnessSlaSeconds: 7200 });
    expect(settingsEnv(s)).toMatchObject({ GOLD_FRESHNESS_REFRESH_SECONDS: '5', GOLD_FRESHNESS_SLA_SECONDS: '7200' });
  });

  it.each([
    ['GOLD_FRESHNESS_REFRESH_SECONDS', '0'],
    ['GOLD_FRESHNESS_REFRESH_SECONDS', '1.5'],
    ['GOLD_FRESHNESS_SLA_SECONDS', '30h'],
  ])('%s=%s is refused with the variable named', (name, value) => {
    expect(() => loadSettings({}, { [name]: value })).toThrow(SettingsError);
    expect(() => loadSettings({}, { [name]: value })).toThrow(`invalid setting ${name}=`);
  });
});

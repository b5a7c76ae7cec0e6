import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/serving/iso-time.js';

describe('isoTime', () => {
  it('writes what Date#toISOString writes, on random and edge times', () => {
    const edges = [
      0, 1, 999, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 4_107_542_399_999 /* 2100-02-28T23:59:59.999 */, 253_402_300_799_999,
      253_402_300_800_000, -1, -62_198_755_200_000, 1.5,
    ];
    let seed = 42;
    const random = Array.from({ length: 20_000 }, () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor((seed / 2 ** 31) * 253_402_300_800_000);
    });
    for (const ms of [...edges, ...random]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});

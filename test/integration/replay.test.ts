// Recorded histories of both workflows replayed against the current workflow code, so that a
// non-deterministic change fails CI. Re-record after an intended, versioned change:
//   RECORD_HISTORIES=1 npx vitest run test/integration/replay.test.ts
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/duckdb.js';
import { openLake } from '../../src/lake/index.js';
import { addDays } from '../../src/shared/dates.js';
import { startBackfill, startDaily } from '../../src/temporal/workflows.js';
import { testSettings } from '../support/env.js';
import { writeRandomSilver } from '../support/silver-fixture.js';
import { testClient, withWorker, workflowBundle } from '../support/temporal.js';

const DIR = fileURLToPath(new URL('../fixtures/histories', import.meta.url));

describe('workflow replay', () => {
  it.runIf(process.env.RECORD_HISTORIES === '1')('records histories of the daily and backfill workflows', async () => {
    for (const f of readdirSync(DIR)) if (f.endsWith('.json')) rmSync(join(DIR, f));
    const s = testSettings();
    const lake = openLake(s.lake, s);
    const db = await Engine.create({ threads: 1, memoryLimit: '1GB' });
    await writeRandomSilver(lake, db, { seed: 4, start: '2026-06-01', days: 5, sessions: 200, users: 20, videos: 15, emptyDays: [] });
    db.close();
    const client = await testClient(s);
    await withWorker(s, async () => {
      const daily = await startDaily(client, s, { date: '2026-06-05' }, { rerun: true });
      await daily.result();
      writeFileSync(join(DIR, `${daily.handle.workflowId}.json`), historyToJSON(await daily.handle.fetchHistory()));
      const backfill = await startBackfill(client, s, {
        from: '2026-06-03',
        to: addDays('2026-06-03', 1),
        families: ['item_features'],
        concurrency: 2,
        force: true,
      });
      await backfill.result();
      writeFileSync(join(DIR, `${backfill.handle.workflowId}.json`), historyToJSON(await backfill.handle.fetchHistory()));
    });
    await client.connection.close();
  });

  it('replays every recorded history without non-determinism', async () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
    // File names are the recorded workflow ids: child ids derive from them, so replay must reuse them.
    expect(files.map((f) => f.split('-').slice(0, 2).join('-')).sort()).toEqual(['gold-backfill', 'gold-daily']);
    const histories = files.map((f) => ({ workflowId: f.replace('.json', ''), history: historyFromJSON(JSON.parse(readFileSync(join(DIR, f), 'utf8'))) }));
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    let replayed = 0;
    for await (const r of results) {
      expect(r.error, `${r.workflowId}: ${r.error?.message}`).toBeUndefined();
      replayed++;
    }
    expect(replayed).toBe(2);
  });
});

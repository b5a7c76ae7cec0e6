// Bookkeeping steps: the DLQ, the consistency sample, the run record and alerts.
import { checkFamilyConsistency } from '../consistency/check.js';
import { addDlqEntry, closeDlqEntry, settleDlqEntries } from '../dlq/index.js';
import { family } from '../features/families/index.js';
import { modelReports } from '../features/models/als-model.js';
import { raiseAlert } from '../monitoring/alerts.js';
import { monitorRun } from '../monitoring/monitor.js';
import { writeRunMetrics } from '../monitoring/run-records.js';
import type { DailyActivities } from '../pipeline/types.js';
import type { StepContext } from './context.js';
import type { StepRuntime } from './runtime.js';

type BookkeepingStep = 'sendToDlq' | 'consistencySample' | 'recordRun' | 'raiseAlert' | 'closeDlqEntry';

export function bookkeepingSteps(ctx: StepContext, rt: StepRuntime): Pick<DailyActivities, BookkeepingStep> {
  const webhookUrl = ctx.settings.alertWebhook;
  return {
    async sendToDlq(a) {
      const entryId = await addDlqEntry(ctx.lake, {
        family: a.family,
        date: a.date,
        runId: a.runId,
        workflowId: a.workflowId,
        reason: a.reason,
        error: a.error,
        sampleRows: a.sampleRows,
        dataPath: a.dataPath ? `${ctx.lake.uri}/${a.dataPath}` : undefined,
      });
      await raiseAlert(
        {
          kind: 'dlq_entry',
          severity: 'error',
          family: a.family,
          date: a.date,
          runId: a.runId,
          message: `${a.family} ${a.date} sent to the DLQ (${a.reason}): ${a.error}`,
        },
        { webhookUrl },
      );
      return { entryId };
    },

    async consistencySample({ date, families, sample }) {
      // Its policy group (materialize) has a heartbeat timeout: reading gold and the store can outlast it.
      return rt.keepAlive(async () => {
        let checked = 0;
        let mismatches = 0;
        let missing = 0;
        for (const name of families) {
          const r = await checkFamilyConsistency(ctx.lake, ctx.online(), ctx.engine, { family: name, date, sample });
          if (!r) continue;
          checked += r.checked;
          mismatches += r.mismatched;
          missing += r.missing;
        }
        return { checked, mismatches, missing };
      });
    },

    // Each part is idempotent, so that a retry after any of them fails redoes the lot harmlessly.
    async recordRun({ report }) {
      await settleDlqEntries(ctx.lake, report.date, report.familiesLanded, report.runId);
      const models = await modelReports(ctx.lake, report.date, report.familiesLanded.map(family));
      const path = await writeRunMetrics(ctx.lake, report.date, report.runId, { ...report, ...models });
      await monitorRun(ctx.lake, report.date, report.planned ?? report.familiesLanded, webhookUrl);
      return { path };
    },

    async raiseAlert({ date, runId, kind, detail }) {
      await raiseAlert({ kind, severity: 'warn', date, runId, message: detail }, { webhookUrl });
    },

    async closeDlqEntry({ id, runId }) {
      await closeDlqEntry(ctx.lake, id, { closedBy: runId });
    },
  };
}

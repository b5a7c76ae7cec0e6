// Activities after computation: validate, commit gold, materialize online, the DLQ, the consistency
// sample, run records and alerts.
import { Context } from '@temporalio/activity';
import { checkFamilyConsistency } from '../src/consistency/check.js';
import { addDlqEntry, closeDlqEntry, listDlq } from '../src/dlq/index.js';
import { familyInputsHash } from '../src/features/compute.js';
import { silverDates } from '../src/silver/status.js';
import { mapLimit } from '../src/shared/map-limit.js';
import { family } from '../src/features/families/index.js';
import { alsModelCurrent, readAlsModelReport } from '../src/features/models/als-model.js';
import { onlineLayoutVersion, onlineViewOf } from '../src/features/online-views.js';
import { familyCodeVersion } from '../src/features/version.js';
import { committedFiles, readManifest, paths } from '../src/lake/index.js';
import { raiseAlert } from '../src/monitoring/alerts.js';
import { monitorDate, raiseAlerts } from '../src/monitoring/monitor.js';
import { logger } from '../src/shared/logger.js';
import { observeValidation } from '../src/monitoring/metrics.js';
import { writeRunMetrics, writeValidationReport } from '../src/monitoring/run-records.js';
import { commitGold } from '../src/offline/gold.js';
import { materializeParquet } from '../src/online/materialize.js';
import { failedSampleRows, validateFamily } from '../src/quality/index.js';
import { registerFamily, schemaVersions } from '../src/registry/index.js';
import type { DailyActivities } from '../src/pipeline/types.js';
import type { ActivityContext } from '../src/steps/context.js';
import { currentAttempt, withHeartbeat } from './errors.js';

type GoldActivityNames = 'validateFeatureFamily' | 'commitFeatureFamily' | 'materializeFeatureFamily' | 'sendToDlq' | 'consistencySample' | 'recordRun' | 'raiseAlert' | 'closeDlqEntry';

async function localFiles(ctx: ActivityContext, prefix: string): Promise<string[]> {
  const keys = await committedFiles(ctx.lake, prefix);
  if (!keys) throw Object.assign(new Error(`partition not committed: ${ctx.lake.uri}/${prefix}`), { nonRetryable: true, type: 'MissingInput' });
  return Promise.all(keys.map((k) => ctx.lake.localFile(k)));
}

/** The heartbeat details of the previous attempt, for resuming where it stopped. */
function lastHeartbeat<T>(): T | undefined {
  try {
    return Context.current().info.heartbeatDetails as T | undefined;
  } catch {
    return undefined;
  }
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // outside Temporal (the in-process runner)
  }
}

export function goldActivities(ctx: ActivityContext) {
  const activities: Pick<DailyActivities, GoldActivityNames> = {
    async validateFeatureFamily({ family: name, date, runId, stagingPath, quality }) {
      const decl = family(name);
      // The download of the staged files (from S3) is covered by the heartbeat too.
      const report = await withHeartbeat(async () => validateFamily(ctx.lake, ctx.engine, { family: decl, date, files: await localFiles(ctx, stagingPath), runId, scratchDir: ctx.scratchDir, config: quality }));
      const reportPath = await writeValidationReport(ctx.lake, report);
      observeValidation(report);
      if (report.warned.length > 0) logger().warn({ family: name, date, warnings: report.warned.map((c) => c.message) }, 'validation warnings');
      return {
        passed: report.passed,
        qualityScore: report.score,
        errors: report.failed.map((c) => c.message),
        warnings: report.warned.map((c) => c.message),
        stagingPath: report.quarantine?.stagingPath ?? stagingPath,
        reportPath,
        sampleRows: failedSampleRows(report),
        attempt: currentAttempt(),
      };
    },

    async commitFeatureFamily({ family: name, date, runId, stagingPath }) {
      const decl = family(name);
      const reg = await registerFamily(ctx.lake, decl);
      // The partials the result was computed from go with the gold: a backfill compares them with today's.
      const inputsHash = (await readManifest(ctx.lake, stagingPath))?.meta.inputsHash;
      const r = await withHeartbeat(() =>
        commitGold(ctx.lake, ctx.engine, { family: decl, date, stagingPath, runId, schemaVersion: reg.version, scratchDir: ctx.scratchDir, extraMeta: { codeVersion: familyCodeVersion(decl), inputsHash } }),
      );
      return { goldPath: r.goldPath, rows: r.rows, skipped: r.skipped, attempt: currentAttempt() };
    },

    async materializeFeatureFamily({ family: name, goldPath }) {
      const decl = family(name);
      const manifest = await readManifest(ctx.lake, goldPath);
      if (!manifest) throw Object.assign(new Error(`gold partition not committed: ${goldPath}`), { nonRetryable: true, type: 'MissingInput' });
      if (decl.online === false) return { rows: 0, written: 0, skippedOlder: 0, attempt: currentAttempt() };
      const view = onlineViewOf(decl, await onlineLayoutVersion(ctx.lake, name, manifest.meta.schemaVersion as number));
      // The checkpoint is the heartbeat: a retry after a crash resumes from the last chunk reported
      // for the same commit (writes are idempotent and guarded by feature_timestamp, so overlap is harmless).
      // Heartbeats between chunks (the download, the first read) carry the latest checkpoint, never none.
      let checkpoint = lastHeartbeat<{ commitId: string; rowsDone: number }>();
      const resumeFrom = checkpoint?.commitId === manifest.commitId ? checkpoint.rowsDone : undefined;
      const r = await withHeartbeat(
        async () =>
          materializeParquet(ctx.online(), view, await localFiles(ctx, goldPath), {
            engine: ctx.engine,
            checkpoint: {
              load: async () => resumeFrom,
              save: async (rowsDone) => heartbeat((checkpoint = { commitId: manifest.commitId, rowsDone })),
            },
          }),
        () => checkpoint,
      );
      return { rows: r.rows, written: r.written, skippedOlder: r.skippedOlder, skippedExpired: r.skippedExpired, attempt: currentAttempt() };
    },

    async sendToDlq(a) {
      const entryId = await addDlqEntry(ctx.lake, { family: a.family, date: a.date, runId: a.runId, workflowId: a.workflowId, reason: a.reason, error: a.error, sampleRows: a.sampleRows, dataPath: a.dataPath ? `${ctx.lake.uri}/${a.dataPath}` : undefined });
      await raiseAlert({ kind: 'dlq_entry', severity: 'error', family: a.family, date: a.date, runId: a.runId, message: `${a.family} ${a.date} sent to the DLQ (${a.reason}): ${a.error}` }, { webhookUrl: process.env.GOLD_ALERT_WEBHOOK });
      return { entryId };
    },

    async consistencySample({ date, families, sample }) {
      // Its policy group (materialize) has a heartbeat timeout: reading gold and the store can outlast it.
      return withHeartbeat(async () => {
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

    async recordRun({ report }) {
      // A family that landed settles the open DLQ entries of its date, whichever run (or replay) made them.
      for (const name of report.familiesLanded) {
        for (const entry of await listDlq(ctx.lake, { status: 'open', family: name, date: report.date })) await closeDlqEntry(ctx.lake, entry.id, { closedBy: report.runId });
      }
      const usesAls = report.familiesLanded.some((f) => family(f).models?.includes('als'));
      const als = usesAls ? await readAlsModelReport(ctx.lake, report.date) : undefined;
      const path = await writeRunMetrics(ctx.lake, report.date, report.runId, { ...report, ...(als ? { models: { als } } : {}) });
      // Monitoring after every run: freshness, completeness, anomalies and drift trends of every family
      // the run planned (one that did not land is the freshness alert's very case).
      const watched = report.planned ?? report.familiesLanded;
      if (watched.length > 0) {
        const monitoring = await monitorDate(ctx.lake, report.date, watched);
        await raiseAlerts(monitoring.alerts, { webhookUrl: process.env.GOLD_ALERT_WEBHOOK });
      }
      return { path };
    },

    async raiseAlert({ date, runId, kind, detail }) {
      await raiseAlert({ kind, severity: 'warn', date, runId, message: detail }, { webhookUrl: process.env.GOLD_ALERT_WEBHOOK });
    },

    async closeDlqEntry({ id, runId }) {
      await closeDlqEntry(ctx.lake, id, { closedBy: runId });
    },
  };

  /**
   * Which of these dates have every family's gold committed with the current code and schema, from
   * the partials there are now. The schema versions are read once, each partial's commit once, and
   * the dates several at a time (a year of dates on S3 is thousands of reads).
   */
  async function currentDates(families: string[], dates: string[]): Promise<Set<string>> {
    const expected = await Promise.all(families.map(async (name) => ({ decl: family(name), code: familyCodeVersion(family(name)), schema: Math.max(...(await schemaVersions(ctx.lake, name)), 0) })));
    const firstSilverDate = (await silverDates(ctx.lake))[0];
    const commits = new Map<string, Promise<string | null>>();
    const commitIdOf = (prefix: string) => {
      if (!commits.has(prefix)) commits.set(prefix, readManifest(ctx.lake, prefix).then((m) => m?.commitId ?? null));
      return commits.get(prefix)!;
    };
    const isCurrent = async (date: string): Promise<boolean> => {
      for (const e of expected) {
        const m = await readManifest(ctx.lake, paths.gold(e.decl.name, date));
        if (!m || m.meta.codeVersion !== e.code || m.meta.schemaVersion !== e.schema) return false;
        if (m.meta.inputsHash !== (await familyInputsHash(ctx.lake, e.decl, date, commitIdOf, firstSilverDate))) return false;
        // A model trained cold while the day before's was not there yet (dates run in parallel) is stale.
        if (e.decl.models?.includes('als') && !(await alsModelCurrent(ctx.lake, date))) return false;
      }
      return true;
    };
    const current = await mapLimit(dates, 16, isCurrent);
    return new Set(dates.filter((_, k) => current[k]));
  }

  return { activities, currentDates };
}

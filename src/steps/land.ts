// Landing steps: a staged family validated, committed to gold, and materialized to the online store.
import { family } from '../features/families/index.js';
import { familyCodeVersion } from '../features/version.js';
import { committedFiles, readManifest } from '../lake/index.js';
import { observeValidation } from '../monitoring/metrics.js';
import { writeValidationReport } from '../monitoring/run-records.js';
import { commitGold } from '../offline/gold.js';
import { materializeParquet } from '../online/materialize.js';
import { onlineLayoutVersion, onlineViewOf } from '../online/views.js';
import type { DailyActivities } from '../pipeline/types.js';
import { failedSampleRows, validateFamily } from '../quality/index.js';
import { registerFamily } from '../registry/index.js';
import { logger } from '../shared/logger.js';
import type { StepContext } from './context.js';
import type { StepRuntime } from './runtime.js';

/** A committed partition's files, local (downloaded from S3 when the lake is there). */
async function localFiles(ctx: StepContext, prefix: string): Promise<string[]> {
  const keys = await committedFiles(ctx.lake, prefix);
  if (!keys) throw Object.assign(new Error(`partition not committed: ${ctx.lake.uri}/${prefix}`), { nonRetryable: true, type: 'MissingInput' });
  return Promise.all(keys.map((k) => ctx.lake.localFile(k)));
}

export function landSteps(
  ctx: StepContext,
  rt: StepRuntime,
): Pick<DailyActivities, 'validateFeatureFamily' | 'commitFeatureFamily' | 'materializeFeatureFamily'> {
  return {
    async validateFeatureFamily({ family: name, date, runId, stagingPath, quality }) {
      const decl = family(name);
      // The download of the staged files (from S3) is kept alive too.
      const report = await rt.keepAlive(async () =>
        validateFamily(ctx.lake, ctx.engine, {
          family: decl,
          date,
          files: await localFiles(ctx, stagingPath),
          runId,
          scratchDir: ctx.scratchDir,
          config: quality,
        }),
      );
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
        attempt: rt.attempt(),
      };
    },

    async commitFeatureFamily({ family: name, date, runId, stagingPath }) {
      const decl = family(name);
      const reg = await registerFamily(ctx.lake, decl);
      // The partials the result was computed from go with the gold: a backfill compares them with today's.
      const inputsHash = (await readManifest(ctx.lake, stagingPath))?.meta.inputsHash;
      const r = await rt.keepAlive(() =>
        commitGold(ctx.lake, ctx.engine, {
          family: decl,
          date,
          stagingPath,
          runId,
          schemaVersion: reg.version,
          scratchDir: ctx.scratchDir,
          extraMeta: { codeVersion: familyCodeVersion(decl), inputsHash },
        }),
      );
      return { goldPath: r.goldPath, rows: r.rows, skipped: r.skipped, attempt: rt.attempt() };
    },

    async materializeFeatureFamily({ family: name, goldPath }) {
      const decl = family(name);
      const manifest = await readManifest(ctx.lake, goldPath);
      if (!manifest) throw Object.assign(new Error(`gold partition not committed: ${goldPath}`), { nonRetryable: true, type: 'MissingInput' });
      if (decl.online === false) return { rows: 0, written: 0, skippedOlder: 0, attempt: rt.attempt() };
      const view = onlineViewOf(decl, await onlineLayoutVersion(ctx.lake, name, manifest.meta.schemaVersion as number));
      // The checkpoint resumes a retry after a crash from the last chunk reported for the same commit
      // (writes are idempotent and guarded by feature_timestamp, so overlap is harmless). Keep-alives
      // between chunks (the download, the first read) carry the latest checkpoint, never none.
      let checkpoint = rt.lastCheckpoint<{ commitId: string; rowsDone: number }>();
      const resumeFrom = checkpoint?.commitId === manifest.commitId ? checkpoint.rowsDone : undefined;
      const r = await rt.keepAlive(
        async () =>
          materializeParquet(ctx.online(), view, await localFiles(ctx, goldPath), {
            engine: ctx.engine,
            checkpoint: {
              load: async () => resumeFrom,
              save: async (rowsDone) => rt.checkpoint((checkpoint = { commitId: manifest.commitId, rowsDone })),
            },
          }),
        () => checkpoint,
      );
      return { rows: r.rows, written: r.written, skippedOlder: r.skippedOlder, skippedExpired: r.skippedExpired, attempt: rt.attempt() };
    },
  };
}

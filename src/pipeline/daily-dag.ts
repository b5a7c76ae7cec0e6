// The daily gold DAG for one date, written once against an abstract set of activities so that the
// Temporal workflow (activities as durable proxies) and the in-process runner (plain calls) run the
// same steps in the same order. Deterministic: time, sleep and progress come from the host.
//
// plan (wait for silver) -> partials -> per stage of the plan, every family in parallel:
//   compute -> validate -> [error: DLQ] -> commit gold -> materialize online
// then a consistency sample and the run record. A family that fails for good goes to the DLQ, the
// families depending on it are skipped, and the rest still lands.
import type { DailyActivities, DailyInput, DailyReport, StepReport } from './types.js';

export interface DagHost {
  runId: string;
  workflowId: string;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Progress for people (the Web UI's current details, or a log line). */
  progress(report: DailyReport, line: string): void;
  /** Message and max attempts of a failed activity call. */
  describeFailure(err: unknown): { message: string; attempts: number; retriesExhausted: boolean };
  /** Whether an error is the run being cancelled: it ends the run, it is not a family's failure. */
  isCancellation(err: unknown): boolean;
  /** Called with the run's final status set, before its record is written (SLA checks). */
  beforeRecord?(): Promise<void>;
}

export class SilverNotReadyError extends Error {
  override name = 'SilverNotReady';
}

export function newReport(input: DailyInput, host: DagHost): DailyReport {
  return {
    date: input.date,
    runId: host.runId,
    runKind: input.runKind ?? 'daily',
    status: 'running',
    startedAt: host.now(),
    steps: [],
    slaMisses: [],
    dlqEntries: [],
    familiesLanded: [],
    ...(input.accept ? { accepted: input.accept } : {}),
  };
}

export async function runDailyDag(acts: DailyActivities, input: DailyInput, host: DagHost, report: DailyReport): Promise<DailyReport> {
  const { date } = input;

  async function step<T extends { attempt: number }>(
    s: Omit<StepReport, 'status' | 'attempts'>,
    call: () => Promise<T>,
    describe: (r: T) => Partial<StepReport>,
  ): Promise<T | undefined> {
    const rec: StepReport = { ...s, status: 'running', attempts: 0, startedAt: host.now() };
    report.steps.push(rec);
    host.progress(report, `${s.step}${s.family ? ` ${s.family}` : ''} running`);
    try {
      const r = await call();
      Object.assign(rec, { status: 'succeeded', attempts: r.attempt, seconds: (host.now() - rec.startedAt!) / 1000 }, describe(r));
      return r;
    } catch (err) {
      if (host.isCancellation(err)) {
        Object.assign(rec, { status: 'cancelled', seconds: (host.now() - rec.startedAt!) / 1000 });
        throw err;
      }
      const f = host.describeFailure(err);
      Object.assign(rec, { status: 'failed', attempts: f.attempts, seconds: (host.now() - rec.startedAt!) / 1000, error: f.message });
      return undefined;
    } finally {
      host.progress(report, `${s.step}${s.family ? ` ${s.family}` : ''} ${rec.status}`);
    }
  }

  // Plan, waiting for silver up to the configured deadline.
  const waitUntil = host.now() + (input.silverWait?.maxWaitMs ?? 0);
  let plan = await step(
    { step: 'plan' },
    () => acts.planDaily({ date, families: input.families }),
    (r) => ({ detail: r.silverReady ? `${r.stages.flat().length} families in ${r.stages.length} stages` : 'silver not ready' }),
  );
  while (plan && !plan.silverReady && host.now() < waitUntil) {
    await host.sleep(Math.min(input.silverWait!.pollMs, Math.max(waitUntil - host.now(), 1)));
    plan = await step(
      { step: 'plan' },
      () => acts.planDaily({ date, families: input.families }),
      (r) => ({ detail: r.silverReady ? 'silver ready' : 'silver not ready' }),
    );
  }
  if (!plan) throw new SilverNotReadyError(`planning ${date} failed: ${report.steps.at(-1)?.error}`);
  if (!plan.silverReady) {
    throw new SilverNotReadyError(
      `silver for ${date} is not ready after waiting ${(input.silverWait?.maxWaitMs ?? 0) / 1000}s: ${plan.missing.map((m) => `${m.date} ${m.reason}`).join(', ')}`,
    );
  }

  report.planned = plan.stages.flat();

  const partials = await step(
    { step: 'partials' },
    () => acts.buildPartials({ date, runTime: new Date(report.startedAt).toISOString() }),
    (r) => ({
      rows: r.rowsAccepted,
      detail: `${r.daysComputed} day(s) computed; silver rows read ${r.rowsRead} = accepted ${r.rowsAccepted} + quarantined ${r.rowsQuarantined}`,
    }),
  );
  if (!partials) throw new SilverNotReadyError(`daily partials for ${date} failed: ${report.steps.at(-1)?.error}`);

  const createdAt = new Date(report.startedAt).toISOString();
  const failed = new Set<string>();
  const landing: Promise<void>[] = [];

  async function toDlq(
    family: string,
    reason: 'validation' | 'retries_exhausted' | 'error',
    error: string,
    dataPath?: string,
    sampleRows?: unknown[],
  ): Promise<void> {
    failed.add(family);
    const r = await step(
      { step: 'dlq', family },
      async () => ({
        ...(await acts.sendToDlq({ family, date, runId: host.runId, workflowId: host.workflowId, reason, error, dataPath, sampleRows })),
        attempt: 1,
      }),
      (x) => ({ dlqEntryId: x.entryId }),
    );
    if (r) report.dlqEntries.push(r.entryId);
  }

  /** The DLQ entry of a family's failed step (its own record: other families' steps run meanwhile). */
  function failedStepToDlq(family: string, stepName: StepReport['step'], dataPath?: string): Promise<void> {
    const rec = report.steps.findLast((s) => s.step === stepName && s.family === family)!;
    const reason = rec.error && /retr|attempt|timeout/i.test(rec.error) ? 'retries_exhausted' : 'error';
    return toDlq(family, reason, rec.error ?? `${stepName} failed`, dataPath);
  }

  /** Commit and materialize run behind the next stages: only compute and validate gate dependents. */
  async function land(family: string, stagingPath: string): Promise<void> {
    const committed = await step(
      { step: 'commit', family },
      () => acts.commitFeatureFamily({ family, date, runId: host.runId, stagingPath }),
      (r) => ({ rows: r.rows, detail: r.skipped ? `unchanged: ${r.goldPath}` : r.goldPath }),
    );
    if (!committed) return failedStepToDlq(family, 'commit', stagingPath);
    const online = await step(
      { step: 'materialize', family },
      () => acts.materializeFeatureFamily({ family, date, goldPath: committed.goldPath }),
      (r) => ({
        rows: r.written,
        detail: `${r.written} written, ${r.skippedOlder} older than online kept out${r.skippedExpired ? `, ${r.skippedExpired} past their TTL not written` : ''}`,
      }),
    );
    if (!online) return failedStepToDlq(family, 'materialize', committed.goldPath);
    report.familiesLanded.push(family);
  }

  /** An accepted family: its staged data, staged again under this run for its dependents, lands unvalidated. */
  async function landAccepted(family: string, accept: NonNullable<DailyInput['accept']>): Promise<void> {
    const staged = await step(
      { step: 'compute', family },
      () => acts.stageAcceptedFamily({ family, date, runId: host.runId, fromPath: accept.stagingPath }),
      (r) => ({ rows: r.rows, detail: `accepted staged data of ${accept.stagingPath}` }),
    );
    if (!staged) return failedStepToDlq(family, 'compute');
    report.steps.push({
      step: 'validate',
      family,
      status: 'succeeded',
      attempts: 0,
      detail: `accepted as it is by ${accept.acceptedBy}: ${accept.reason} (failed: ${accept.failedChecks.join('; ')})`,
    });
    const landed = land(family, staged.stagingPath);
    landed.catch(() => undefined);
    landing.push(landed);
  }

  async function computeAndValidate(family: string): Promise<void> {
    if (input.accept?.family === family) return landAccepted(family, input.accept);
    const computed = await step(
      { step: 'compute', family },
      () => acts.computeFeatureFamily({ family, date, runId: host.runId, createdAt }),
      (r) => ({ rows: r.rows, detail: r.stagingPath }),
    );
    if (!computed) return failedStepToDlq(family, 'compute');
    const validated = await step(
      { step: 'validate', family },
      () => acts.validateFeatureFamily({ family, date, runId: host.runId, stagingPath: computed.stagingPath, quality: input.quality }),
      (r) => ({
        qualityScore: r.qualityScore,
        detail: r.passed ? `passed${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ''}` : `failed: ${r.errors.join('; ')}`,
      }),
    );
    if (!validated) return failedStepToDlq(family, 'validate', computed.stagingPath);
    if (!validated.passed) return toDlq(family, 'validation', validated.errors.join('; '), computed.stagingPath, validated.sampleRows);
    const landed = land(family, validated.stagingPath);
    // Awaited below; marked handled here, since a cancellation can end the stages before that.
    landed.catch(() => undefined);
    landing.push(landed);
  }

  for (const stage of plan.stages) {
    await Promise.all(
      stage.map(async (family) => {
        const blockedBy = [...failed].filter((f) => needs(plan!.dependencies, family, f));
        if (blockedBy.length > 0) {
          failed.add(family);
          report.steps.push({ step: 'compute', family, status: 'skipped', attempts: 0, detail: `dependency failed: ${blockedBy.join(', ')}` });
          return;
        }
        await computeAndValidate(family);
      }),
    );
  }
  await Promise.all(landing);

  if (report.familiesLanded.length > 0) {
    await step(
      { step: 'consistency' },
      async () => ({ ...(await acts.consistencySample({ date, families: report.familiesLanded, sample: 200 })), attempt: 1 }),
      (r) => ({
        rows: r.checked,
        detail: `${r.checked} online values checked against gold: ${r.mismatches} mismatched, ${r.missing} missing`,
      }),
    );
  }
  if (input.dlqEntryId && input.families?.every((f) => report.familiesLanded.includes(f))) {
    await step(
      { step: 'dlq', detail: `close ${input.dlqEntryId}` },
      async () => {
        await acts.closeDlqEntry({ id: input.dlqEntryId!, runId: host.runId });
        return { attempt: 1 };
      },
      () => ({}),
    );
  }

  const planned = report.planned;
  report.status = report.familiesLanded.length === planned.length ? 'succeeded' : report.familiesLanded.length > 0 ? 'partial' : 'failed';
  report.finishedAt = host.now();
  await host.beforeRecord?.();
  await step(
    { step: 'metrics' },
    async () => ({ ...(await acts.recordRun({ report })), attempt: 1 }),
    (r) => ({ detail: r.path }),
  );
  return report;
}

/** True when `family` needs `failedFamily`, directly or through other families. */
function needs(dependencies: Record<string, string[]>, family: string, failedFamily: string): boolean {
  const seen = new Set<string>();
  const visit = (f: string): boolean => {
    if (seen.has(f)) return false;
    seen.add(f);
    return (dependencies[f] ?? []).some((d) => d === failedFamily || visit(d));
  };
  return visit(family);
}

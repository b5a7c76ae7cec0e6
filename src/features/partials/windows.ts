// The window states, derived from the families: each family declares the sums over windows it reads
// (FamilyDecl.windows), and every daily partial summed by some family gets one state, named after it
// (user_day -> user_window), keyed like it, with the union of all families' columns. Two families
// declaring the same column share it. The columns are in the order of FAMILIES, then of each family's
// declarations (a column declared again keeps its first place): a state's SQL, hence its lineage and
// the code versions of the families reading it, changes when a column is added, removed or moved.
//
// This module imports the families; definitions.ts must not (the families import it), so whatever
// needs the window states (partialSql, the builder, code versions) imports them from here.
import { FAMILIES } from '../families/index.js';
import type { FamilyDecl, WindowAggregation } from '../types.js';
import {
  DAILY_PARTIALS,
  type DailyPartialName,
  HISTORY_PARTIALS,
  type HistoryPartialName,
  LINK_PARTIALS,
  type LinkPartialName,
  leavingLengths,
  type PartialName,
  type WindowPartial,
  type WindowPartialName,
  type WindowSum,
  windowFoldSql,
  windowStateName,
} from './definitions.js';

/** The state columns an aggregation declares, by name: one per window. */
export function aggregationColumns(a: WindowAggregation): [string, WindowSum][] {
  const daily = DAILY_PARTIALS[a.from];
  const measures: Readonly<Record<string, WindowSum['type']>> = daily.measures;
  let expr: string, type: WindowSum['type'], name: string;
  if ('column' in a) {
    const t = measures[a.column];
    if (!t) throw new Error(`'${a.column}' is not a measure of the daily partial ${a.from} (its measures: ${Object.keys(measures).join(', ') || 'none'})`);
    [expr, type, name] = [a.column, t, a.name ?? a.column];
  } else {
    [expr, type, name] = [a.expr, a.type, a.name];
  }
  if (a.op !== 'sum') throw new Error(`window aggregation ${name} of ${a.from}: unknown op '${String(a.op)}' (only 'sum')`);
  if (a.windows.length === 0 || a.windows.some((d) => !Number.isInteger(d) || d < 1))
    throw new Error(`window aggregation ${name} of ${a.from}: windows must be whole numbers of days >= 1 (got ${a.windows.join(', ') || 'none'})`);
  if (a.as !== undefined && a.windows.length !== 1)
    throw new Error(`window aggregation ${name} of ${a.from}: 'as' names a single window's column (got ${a.windows.length} windows)`);
  return a.windows.map((days) => [a.as ?? `${name}_${days}d`, { expr, type, days }]);
}

/** The window states a family reads: those of the daily partials its aggregations sum. */
export function familyWindowStates(f: FamilyDecl): WindowPartialName[] {
  return [...new Set((f.windows ?? []).map((a) => windowStateName(a.from)))];
}

/**
 * The partials a family reads: its `partials`, then the window states of its `windows` it does not
 * list. A listed window state must be read for the date only (1) and be one the family declares sums of.
 */
export function familyPartials(f: FamilyDecl): Partial<Record<PartialName, number>> {
  const states = familyWindowStates(f);
  for (const [name, days] of Object.entries(f.partials)) {
    if (!name.endsWith('_window')) continue;
    if (!states.includes(name as WindowPartialName))
      throw new Error(
        `family ${f.name} reads the window state ${name} but declares no window aggregation of ${name.replace(/_window$/, '_day')} (declare the sums it reads in its 'windows')`,
      );
    if (days !== 1) throw new Error(`family ${f.name} reads the window state ${name} over ${days} days: a state is read for the date only (1)`);
  }
  return { ...f.partials, ...Object.fromEntries(states.filter((s) => !(s in f.partials)).map((s) => [s, 1])) };
}

/**
 * The window states of the given families: one per daily partial summed (in the order of
 * DAILY_PARTIALS), its columns the union of the families' (in the order of the families and of their
 * declarations). A column declared twice with different sums is an error naming both families.
 */
export function deriveWindowPartials(families: readonly FamilyDecl[]): Partial<Record<WindowPartialName, WindowPartial>> {
  const columns = new Map<DailyPartialName, Map<string, WindowSum & { family: string }>>();
  for (const f of families) {
    familyPartials(f); // checks the listed window states
    for (const a of f.windows ?? []) {
      const daily = DAILY_PARTIALS[a.from];
      let state = columns.get(a.from);
      if (!state) columns.set(a.from, (state = new Map()));
      let declared: [string, WindowSum][];
      try {
        declared = aggregationColumns(a);
      } catch (e) {
        throw new Error(`family ${f.name}: ${(e as Error).message}`);
      }
      for (const [name, sum] of declared) {
        if (name === 'day' || name === 'days_present' || (daily.keys as readonly string[]).includes(name))
          throw new Error(
            `family ${f.name}: the window column ${name} of ${windowStateName(a.from)} would clash with a column the state always has (day, days_present, ${daily.keys.join(', ')})`,
          );
        const known = state.get(name);
        if (!known) state.set(name, { ...sum, family: f.name });
        else if (known.expr !== sum.expr || known.type !== sum.type || known.days !== sum.days) {
          throw new Error(
            `the window column ${name} of ${windowStateName(a.from)} is declared differently by ${known.family} (sum of ${known.expr} as ${known.type} over ${known.days} days) and ${f.name} (sum of ${sum.expr} as ${sum.type} over ${sum.days} days): give one of them another name`,
          );
        }
      }
    }
  }
  const states: Partial<Record<WindowPartialName, WindowPartial>> = {};
  for (const from of Object.keys(DAILY_PARTIALS) as DailyPartialName[]) {
    const state = columns.get(from);
    if (!state) continue;
    const name = windowStateName(from);
    const sums = Object.fromEntries([...state].map(([n, { expr, type, days }]) => [n, { expr, type, days }]));
    const lengths = [...new Set(Object.values(sums).map((c) => c.days))].sort((a, b) => a - b);
    const keys = DAILY_PARTIALS[from].keys;
    states[name] = {
      kind: 'window',
      name,
      description: `per ${keys.join(' and ')}, sums of ${from} over the last ${lengths.join(', ')} days (columns declared by ${[...new Set([...state.values()].map((c) => c.family))].join(', ')})`,
      from,
      keys,
      sums,
    };
  }
  return states;
}

/** The window states of all families. */
export const WINDOW_PARTIALS = deriveWindowPartials(FAMILIES);

/** The window state of that name; an error if no family sums its daily partial. */
export function windowPartial(name: WindowPartialName): WindowPartial {
  const w = WINDOW_PARTIALS[name];
  if (!w) throw new Error(`no family declares window aggregations of ${name.replace(/_window$/, '_day')}: there is no window state ${name}`);
  return w;
}

/** The names of the window states, in build order. */
export const windowPartialNames = (): WindowPartialName[] => Object.keys(WINDOW_PARTIALS) as WindowPartialName[];

/** A state (history or window) of a date holds what a family needs of all earlier days: a family reads only the date's. */
export function isState(name: PartialName): name is HistoryPartialName | WindowPartialName {
  return name in HISTORY_PARTIALS || name.endsWith('_window');
}

/** The SQL of any partial (what a family's code version hashes). */
export function partialSql(name: PartialName): string {
  if (name in DAILY_PARTIALS) return DAILY_PARTIALS[name as DailyPartialName].sql;
  if (name in HISTORY_PARTIALS) return HISTORY_PARTIALS[name as HistoryPartialName].sql;
  if (name in LINK_PARTIALS) {
    const link = LINK_PARTIALS[name as LinkPartialName];
    return `${link.sql}\n${link.pairs}\n${link.lookbackDays}\n${DAILY_PARTIALS[link.from].sql}`;
  }
  const w = windowPartial(name as WindowPartialName);
  return `${windowFoldSql(w, { previous: true, leaving: leavingLengths(w) })}\n${DAILY_PARTIALS[w.from].sql}`;
}

import type { Mapping } from '../mapping/types.ts';

export interface PauseTargetProblem {
  status: 404 | 400;
  message: string;
}

/** Checks a pause/resume target: the source must exist, the table must be one of its mapped tables. */
export function pauseTarget(
  sources: ReadonlyMap<string, readonly Mapping[]>,
  source: string,
  table: string | undefined,
): PauseTargetProblem | undefined {
  const mappings = sources.get(source);
  if (mappings === undefined) {
    return { status: 404, message: `unknown source "${source}" (sources: ${[...sources.keys()].join(', ')})` };
  }
  if (table !== undefined && !mappings.some((m) => m.table === table)) {
    return {
      status: 400,
      message: `unknown table "${table}" of source ${source} (mapped tables: ${mappings.map((m) => m.table).join(', ')})`,
    };
  }
  return undefined;
}

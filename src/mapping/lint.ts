/** `hms-sync mappings lint DIR`: one line per file, `ok ...` or its errors. */
import { loadMappingDir } from './mapping-dir.ts';

export interface LintResult {
  ok: boolean;
  lines: string[];
}

export async function lintMappings(dir: string): Promise<LintResult> {
  const result = await loadMappingDir(dir);
  const lines: string[] = [];
  if (result.files.length === 0) {
    if (result.errors.length > 0) return { ok: false, lines: result.errors.map((error) => error.message) };
    return { ok: false, lines: [`${dir}: no mapping files (*.yaml, *.yml)`] };
  }
  for (const entry of result.files) {
    if (entry.mapping !== undefined) {
      const { table, entity, fields } = entry.mapping;
      lines.push(`ok ${entry.file} (${table} -> ${entity}, ${fields.length} field${fields.length === 1 ? '' : 's'})`);
    } else {
      lines.push(...entry.errors.map((error) => error.message));
    }
  }
  return { ok: result.errors.length === 0, lines };
}

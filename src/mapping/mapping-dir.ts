/**
 * A source's folder of mapping files: every *.yaml / *.yml in it, sorted by name, each table
 * and each entity mapped at most once.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { HmsSyncError } from '../errors.ts';
import { parseYamlSource } from '../util/yaml-source.ts';
import { parseMapping } from './mapping-file.ts';
import type { Mapping } from './types.ts';

export interface MappingDirResult {
  mappings: Mapping[];
  errors: HmsSyncError[];
  /** Per file, as the caller named it: its mapping or its errors (for `mappings lint`). */
  files: { file: string; mapping?: Mapping; errors: HmsSyncError[] }[];
}

const MAPPING_FILE = /\.ya?ml$/i;

export async function listMappingFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory() && MAPPING_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => path.join(dir, name));
}

function duplicateError(file: string, text: string, key: 'table' | 'entity', message: string): HmsSyncError {
  const source = parseYamlSource(file, text);
  return new HmsSyncError('MAPPING', source.issue([key], message).text);
}

/** Never throws for bad files: each problem is one error, naming its file and line. */
export async function loadMappingDir(dir: string): Promise<MappingDirResult> {
  let files: string[];
  try {
    files = await listMappingFiles(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'mapping folder not found' : code === 'ENOTDIR' ? 'not a folder' : `cannot read folder (${code ?? String(error)})`;
    const failure = new HmsSyncError('MAPPING', `${dir}: ${why}`, { cause: error });
    return { mappings: [], errors: [failure], files: [] };
  }

  const result: MappingDirResult = { mappings: [], errors: [], files: [] };
  const byTable = new Map<string, string>();
  const byEntity = new Map<string, string>();
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (error) {
      const failure = new HmsSyncError('MAPPING', `${file}: cannot read mapping file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      result.errors.push(failure);
      result.files.push({ file, errors: [failure] });
      continue;
    }
    const parsed = parseMapping(file, bytes);
    const errors = [...parsed.errors];
    const mapping = parsed.mapping;
    if (mapping !== undefined) {
      const text = new TextDecoder('utf-8').decode(bytes);
      const tableOwner = byTable.get(mapping.table);
      if (tableOwner !== undefined) {
        errors.push(duplicateError(file, text, 'table', `table ${mapping.table} is already mapped by ${tableOwner}`));
      }
      const entityOwner = byEntity.get(mapping.entity);
      if (entityOwner !== undefined) {
        errors.push(duplicateError(file, text, 'entity', `entity ${mapping.entity} is already produced by ${entityOwner}`));
      }
    }
    if (mapping !== undefined && errors.length === 0) {
      byTable.set(mapping.table, file);
      byEntity.set(mapping.entity, file);
      result.mappings.push(mapping);
      result.files.push({ file, mapping, errors });
    } else {
      result.errors.push(...errors);
      result.files.push({ file, errors });
    }
  }
  return result;
}

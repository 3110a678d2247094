import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintMappings, loadMappingDir } from '../../../src/mapping/index.ts';

const FIXTURES = 'test/fixtures/mappings';

describe('loadMappingDir', () => {
  it('reads *.yaml and *.yml only, sorted by name', async () => {
    const { mappings, errors } = await loadMappingDir(`${FIXTURES}/valid`);
    expect(errors).toEqual([]);
    expect(mappings.map((m) => path.basename(m.file))).toEqual(['BRIDGES.yml', 'INSPECTIONS.yaml']);
    expect(mappings.every((m) => path.isAbsolute(m.file))).toBe(true);
  });

  it('refuses a second file for the same table or the same entity, at its own line', async () => {
    const dir = `${FIXTURES}/duplicates`;
    const { mappings, errors } = await loadMappingDir(dir);
    expect(mappings.map((m) => m.entity)).toEqual(['bridge_inspection', 'good']);
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['MAPPING', `${dir}/B_INSPECTIONS_AGAIN.yaml:2:8: table: table public.inspections is already mapped by ${dir}/A_INSPECTIONS.yaml`],
      ['MAPPING', `${dir}/C_OTHER_TABLE.yml:2:9: entity: entity bridge_inspection is already produced by ${dir}/A_INSPECTIONS.yaml`],
    ]);
  });

  it('collects every bad file without stopping at the first', async () => {
    const { mappings, errors } = await loadMappingDir(`${FIXTURES}/invalid`);
    expect(mappings).toEqual([]);
    expect(errors.map((e) => path.basename(e.message.split(':')[0]!))).toEqual([
      'DUPLICATE_FIELD.yaml',
      'KEY_NOT_MAPPED.yaml',
      'SYNTAX.yaml',
      'UNKNOWN_KEY.yaml',
      'UNKNOWN_TYPE.yaml',
      'UNQUALIFIED_TABLE.yaml',
    ]);
  });

  it('a missing folder is one error, not a throw', async () => {
    const { mappings, errors } = await loadMappingDir(`${FIXTURES}/nope`);
    expect(mappings).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([`${FIXTURES}/nope: mapping folder not found`]);
  });

  it('an empty folder has no mappings and no errors', async () => {
    expect(await loadMappingDir(`${FIXTURES}/empty`)).toMatchObject({ mappings: [], errors: [] });
  });
});

describe('lintMappings', () => {
  it('one ok line per good file', async () => {
    expect(await lintMappings(`${FIXTURES}/valid`)).toEqual({
      ok: true,
      lines: [
        `ok ${FIXTURES}/valid/BRIDGES.yml (dbo.BRIDGES -> bridge, 4 fields)`,
        `ok ${FIXTURES}/valid/INSPECTIONS.yaml (public.inspections -> bridge_inspection, 5 fields)`,
      ],
    });
  });

  it('error lines in place of a bad file, in file order', async () => {
    const dir = `${FIXTURES}/duplicates`;
    expect(await lintMappings(dir)).toEqual({
      ok: false,
      lines: [
        `ok ${dir}/A_INSPECTIONS.yaml (public.inspections -> bridge_inspection, 1 field)`,
        `${dir}/B_INSPECTIONS_AGAIN.yaml:2:8: table: table public.inspections is already mapped by ${dir}/A_INSPECTIONS.yaml`,
        `${dir}/C_OTHER_TABLE.yml:2:9: entity: entity bridge_inspection is already produced by ${dir}/A_INSPECTIONS.yaml`,
        `ok ${dir}/D_GOOD.yaml (public.good -> good, 1 field)`,
      ],
    });
  });

  it('every error of a file, each on its own line', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hms-lint-'));
    try {
      await writeFile(path.join(dir, 'T.yaml'), 'table: t\nentity: T\nfields:\n  id: { from: ID, type: nope }\n');
      const result = await lintMappings(dir);
      expect(result.ok).toBe(false);
      expect(result.lines).toEqual([
        `${dir}/T.yaml:2:9: entity: an entity must match [a-z0-9_]+ (it is a subject token)`,
        `${dir}/T.yaml:4:25: fields.id.type: unknown type "nope" (expected one of string, integer, bigint, decimal, boolean, date, timestamp, json, bytes)`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails on an empty or missing folder', async () => {
    expect(await lintMappings(`${FIXTURES}/empty`)).toEqual({
      ok: false,
      lines: [`${FIXTURES}/empty: no mapping files (*.yaml, *.yml)`],
    });
    expect(await lintMappings(`${FIXTURES}/nope`)).toEqual({ ok: false, lines: [`${FIXTURES}/nope: mapping folder not found`] });
  });
});

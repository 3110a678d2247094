// The CLI's contract for bad input: a bad config or mapping file exits 2 with a message that
// names file:line; `mappings lint` and `--help` exit as documented; `mappings scaffold` writes
// a mapping file from a live table that lint accepts, prints its path and never overwrites
// without --force.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parse } from 'yaml';
import { freshDatabase } from '../../support/context.ts';
import { runCli, workspace } from '../../support/bridge.ts';

const GOOD_MAPPING = `table: public.inspections
entity: inspection
key: [BRG_ID]
fields:
  bridgeId: { from: BRG_ID, type: string, trim: true }
  nextDate: { from: NEXT_INSP_DT, type: date, format: yyyyMMdd }
`;

// Line 5, column 29 is the value of fields.when.type.
const BAD_TYPE_MAPPING = `table: public.t
entity: t
fields:
  id: { from: ID, type: integer }
  when: { from: WHEN, type: dat }
`;

/** A config whose source block ends with `sourceLines` (each line indented under the source). */
function config(natsUrl: string, sourceLines: string[]): string {
  return [
    'nats:', //                                       1
    `  servers: ${natsUrl}`, //                       2
    'sources:', //                                    3
    '  - name: legacy', //                            4
    '    kind: postgres', //                          5
    ...sourceLines.map((line) => `    ${line}`), //   6...
    '',
  ].join('\n');
}

describe('cli-errors', () => {
  it('exits 2 naming file:line for an unknown key, a bad duration, a missing variable and an unknown type', async () => {
    using ws = workspace();
    const nats = inject('natsUrl');
    ws.write('mappings/legacy/INSPECTIONS.yaml', GOOD_MAPPING);
    const url = 'url: postgres://reader@127.0.0.1:5432/legacy';

    const unknownKey = ws.write('unknown-key.yaml', config(nats, [url, 'mappings: ./mappings/legacy', 'captur: auto']));
    let result = await runCli(['run', '-c', unknownKey]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${unknownKey}:8:5: sources[0].captur: unknown key`);
    expect(result.stderr).toContain('"capture"');

    const badDuration = ws.write('bad-duration.yaml', config(nats, [url, 'mappings: ./mappings/legacy', 'poll:', '  interval: 5x']));
    result = await runCli(['run', '-c', badDuration]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${badDuration}:9:17: sources[0].poll.interval: invalid duration "5x"`);

    const variable = `HMS_SYNC_TEST_UNSET_${process.pid}`;
    const missingVar = ws.write(
      'missing-var.yaml',
      // Port 1: nothing listens there, so with the variable set the failure is a runtime one.
      config(nats, ['mappings: ./mappings/legacy', `url: postgres://reader:\${${variable}}@127.0.0.1:1/legacy`]),
    );
    result = await runCli(['doctor', '-c', missingVar]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${missingVar}:7:10: sources[0].url: environment variable ${variable} is not set`);
    // The same file with the variable set is a valid config: doctor runs and reports the server (exit 1, not 2).
    result = await runCli(['doctor', '-c', missingVar], { [variable]: 'secret-value' });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain('127.0.0.1:1/legacy');
    expect(result.stdout + result.stderr).not.toContain('secret-value');

    const badMappingFile = ws.write('mappings/bad/T.yaml', BAD_TYPE_MAPPING);
    const badMapping = ws.write('bad-mapping.yaml', config(nats, [url, 'mappings: ./mappings/bad']));
    result = await runCli(['run', '-c', badMapping]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${badMappingFile}:5:29: fields.when.type: unknown type "dat"`);
    // None of them got as far as starting anything.
    expect(result.stdout).toBe('');
  });

  it('mappings lint: 0 for a good folder, 2 with file:line for a bad one; --help exits 0', async () => {
    using ws = workspace();
    const good = join(ws.dir, 'good');
    const goodFile = ws.write('good/INSPECTIONS.yaml', GOOD_MAPPING);
    let result = await runCli(['mappings', 'lint', good]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`ok ${goodFile} (public.inspections -> inspection, 2 fields)`);

    const bad = join(ws.dir, 'bad');
    ws.write('bad/A_GOOD.yaml', GOOD_MAPPING);
    const badFile = ws.write('bad/T.yaml', BAD_TYPE_MAPPING);
    result = await runCli(['mappings', 'lint', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${badFile}:5:29: fields.when.type: unknown type "dat"`);

    result = await runCli(['mappings', 'lint', join(ws.dir, 'no-such-folder')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no-such-folder');

    result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: hms-sync');
    expect(result.stdout).toContain('mappings');
  });

  it('mappings scaffold writes <mappings folder>/<TABLE>.yaml from the live table, lint accepts it, and it never overwrites without --force', async () => {
    await using db = await freshDatabase();
    using ws = workspace();
    await db.query(`
      CREATE TABLE "BRIDGE_INSP" (
        "BRG_ID" char(10),
        "SEQ_NO" integer,
        "MILES" numeric(8,3),
        "BIG_COUNT" bigint,
        "INSPECTED_AT" timestamptz,
        "LOCAL_AT" timestamp,
        "DUE" date,
        "OK" boolean,
        "DOC" jsonb,
        "PHOTO" bytea,
        "NOTE" varchar(200),
        PRIMARY KEY ("BRG_ID", "SEQ_NO")
      )`);
    const configPath = ws.write(
      'hms-sync.yaml',
      config(inject('natsUrl'), [`url: ${db.url}`, 'mappings: ./maps/legacy']),
    );
    const expectedPath = join(ws.dir, 'maps', 'legacy', 'BRIDGE_INSP.yaml');
    const args = ['mappings', 'scaffold', '-c', configPath, '--source', 'legacy', '--table', 'public.BRIDGE_INSP'];

    let result = await runCli(args);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${expectedPath}\n`);
    const written = readFileSync(expectedPath, 'utf8');
    const doc = parse(written);
    expect(doc).toMatchObject({ table: 'public.BRIDGE_INSP', key: ['BRG_ID', 'SEQ_NO'], unmapped: 'ignore' });
    expect(doc.entity).toMatch(/^[a-z0-9_]+$/);
    // One field per column, in column order, each naming its column and a type for it.
    expect(Object.values(doc.fields).map((f: any) => [f.from, f.type])).toEqual([
      ['BRG_ID', 'string'],
      ['SEQ_NO', 'integer'],
      ['MILES', 'decimal'],
      ['BIG_COUNT', 'bigint'],
      ['INSPECTED_AT', 'timestamp'],
      ['LOCAL_AT', 'timestamp'],
      ['DUE', 'date'],
      ['OK', 'boolean'],
      ['DOC', 'json'],
      ['PHOTO', 'bytes'],
      ['NOTE', 'string'],
    ]);
    expect(Object.values(doc.fields)[0]).toMatchObject({ trim: true });

    result = await runCli(['mappings', 'lint', join(ws.dir, 'maps', 'legacy')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`ok ${expectedPath}`);

    // A second run refuses to overwrite, and leaves the file as it was.
    ws.write('maps/legacy/BRIDGE_INSP.yaml', `${written}# edited by hand\n`);
    result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(expectedPath);
    expect(result.stderr).toContain('--force');
    expect(readFileSync(expectedPath, 'utf8')).toBe(`${written}# edited by hand\n`);

    result = await runCli([...args, '--force']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${expectedPath}\n`);
    expect(readFileSync(expectedPath, 'utf8')).toBe(written);

    // A table that does not exist: a clear error naming it, no file written.
    result = await runCli(['mappings', 'scaffold', '-c', configPath, '--source', 'legacy', '--table', 'public.NOPE']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('public.NOPE');
    expect(existsSync(join(ws.dir, 'maps', 'legacy', 'NOPE.yaml'))).toBe(false);
  });
});

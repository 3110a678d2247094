// The optional `poll:` block of a mapping file: the hint column and the sweep cadence.
import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../../src/mapping/index.ts';

const BASE = `table: public.assets
entity: asset
fields:
  id: { from: ID, type: integer }
`;

describe('mapping poll hint', () => {
  it('reads changedColumn and sweep', () => {
    const { mapping, errors } = parseMapping('ASSETS.yaml', `${BASE}poll: { changedColumn: UPDATED_AT, sweep: 15m }\n`);
    expect(errors).toEqual([]);
    expect(mapping!.poll).toEqual({ changedColumn: 'UPDATED_AT', sweepMs: 900_000 });
  });

  it('is optional, and sweep too', () => {
    expect(parseMapping('A.yaml', BASE).mapping!.poll).toBeUndefined();
    expect(parseMapping('A.yaml', `${BASE}poll: { changedColumn: "2024" }\n`).mapping!.poll).toEqual({ changedColumn: '2024' });
  });

  it('names the file, line and key of a mistake', () => {
    const bad = parseMapping('ASSETS.yaml', `${BASE}poll: { changedColumn: UPDATED_AT, sweep: soon }\n`);
    expect(bad.errors.map((e) => e.message).join('\n')).toMatch(/ASSETS\.yaml:5:.*poll\.sweep.*invalid duration "soon"/);
    const unknown = parseMapping('ASSETS.yaml', `${BASE}poll: { column: UPDATED_AT }\n`);
    expect(unknown.errors.length).toBeGreaterThan(0);
    expect(unknown.errors.map((e) => e.message).join('\n')).toMatch(/ASSETS\.yaml:5/);
  });
});

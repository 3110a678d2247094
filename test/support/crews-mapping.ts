// The crews table of the HTTP tests: a CHAR(6) key (trimmed) and one more column.

/** public.crews -> crew, keyed by CREW_ID, with `field` mapped from its column. */
export function crewsMapping(field: 'name' | 'size'): string {
  const column = field === 'name' ? '{ from: NAME, type: string }' : '{ from: SIZE, type: integer }';
  return `
table: public.crews
entity: crew
key: [CREW_ID]
fields:
  crewId: { from: CREW_ID, type: string, trim: true }
  ${field}: ${column}
`;
}

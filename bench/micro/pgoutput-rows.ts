// Micro-benchmark of reading pgoutput insert messages into rows, without servers: the capture's
// own reader (capture/postgres/pgoutput-rows.ts) against pg-logical-replication's parser followed
// by the per-value conversion the capture did before, on the bench table's rows.
//   node bin/run-ts.js bench/micro/pgoutput-rows.ts [rows]
import { PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { PgoutputRowReader } from '../../capture/postgres/pgoutput-rows.ts';
import type { SourceRow } from '../../src/mapping/types.ts';
import { insertMessage, LibraryRowReading, relationMessage } from '../../test/support/pgoutput-messages.ts';
import { measureAllocation } from './allocation.ts';

const rows = Number(process.argv[2] ?? 200_000);
const COLUMNS = [
  { name: 'id', oid: 23, key: true },
  { name: 'code', oid: 1042, key: false },
  { name: 'amount', oid: 1700, key: false },
  { name: 'note', oid: 25, key: false },
];

const relation = relationMessage(16_401, 'public', 'bench', COLUMNS);
const messages: Buffer[] = [];
for (let i = 1; i <= rows; i++) messages.push(insertMessage(16_401, [String(i), `C${i % 97}`.padEnd(8), (i * 0.25).toFixed(2), 'ab'.repeat(32)]));

const library = new LibraryRowReading(relation);
const reader = new PgoutputRowReader();
reader.relation(new PgoutputPlugin({ protoVersion: 1, publicationNames: ['p'] }).parse(relation) as Pgoutput.MessageRelation);

const ways: Record<string, (message: Buffer) => SourceRow> = {
  'library + conversion': (message) => library.row((library.parse(message) as Pgoutput.MessageInsert).new),
  'PgoutputRowReader': (message) => (reader.read(message) as { new: SourceRow }).new,
};

for (const [name, read] of Object.entries(ways)) {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    let check = 0;
    for (const message of messages) check += (read(message).note as string).length;
    best = Math.min(best, performance.now() - started);
    if (check !== rows * 64) throw new Error(`${name}: read ${check} characters of notes, expected ${rows * 64}`);
  }
  const allocation = await measureAllocation(() => {
    for (const message of messages) read(message);
  });
  console.log(`${name}: ${((best * 1000) / rows).toFixed(2)} µs a row (best of 5), ${Math.round(allocation.bytes / rows)} bytes allocated a row`);
}

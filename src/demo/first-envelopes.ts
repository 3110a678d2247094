// The few envelopes the demo prints in full as they arrive: the first of each entity (a
// snapshot row, shown beside the legacy row it came from), the first update that carries the
// old row in `before`, and the first dead letter.
import { envelopeKey, type StoredRows } from './legacy-display.ts';
import { prettyJson, wrapPairs } from './report.ts';
import type { StreamEvent } from './stream-watch.ts';

export type PrintLine = (text?: string) => void;

export class FirstEnvelopes {
  readonly #entitiesShown = new Set<string>();
  #updateShown = false;
  #deadLetterShown = false;

  constructor(
    private readonly print: PrintLine,
    private readonly stored: StoredRows,
  ) {}

  show(event: StreamEvent): void {
    if (event.kind === 'status') return;
    if (event.kind === 'dead-letter') {
      if (this.#deadLetterShown) return;
      this.#deadLetterShown = true;
      this.#block(`dead letter: a change the mapping refused, on ${event.subject}; capture goes on`, [], event.deadLetter);
      return;
    }
    const { envelope, subject } = event;
    if (!this.#entitiesShown.has(envelope.entity)) {
      this.#entitiesShown.add(envelope.entity);
      const what = envelope.op === 'r' ? 'a snapshot row' : `a change (op ${envelope.op})`;
      const tableName = envelope.source.table.slice(envelope.source.table.indexOf('.') + 1);
      const legacy = envelope.op === 'r' ? this.stored.get(tableName)?.get(envelopeKey(envelope.key)) : undefined;
      const lines = legacy ? wrapPairs('legacy row  ', legacy) : [];
      this.#block(`first ${envelope.entity}: ${what} of ${envelope.source.table}`, [...lines, `subject     ${subject}`], envelope);
      return;
    }
    if (!this.#updateShown && envelope.op === 'u' && envelope.before !== null) {
      this.#updateShown = true;
      this.#block(
        `first update of ${envelope.entity}: "before" holds the old row (the table has REPLICA IDENTITY FULL)`,
        [`subject     ${subject}`],
        envelope,
      );
    }
  }

  #block(title: string, lines: string[], body: unknown): void {
    this.print();
    this.print(`── ${title}`);
    for (const line of lines) this.print(line);
    for (const line of prettyJson(body).split('\n')) this.print(line);
  }
}

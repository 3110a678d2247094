// A counters load spread over time (test/support/pg-load.ts runs as fast as it can): rounds of
// small transactions with a pause between rounds, so a process can be killed in the middle.
import { setTimeout as sleep } from 'node:timers/promises';
import { runCounterLoad } from './pg-load.ts';

export interface PacedLoad {
  rows: number;
  /** Transactions in all. */
  transactions: number;
  perTx: number;
  /** Rounds the transactions are split into; a pause of `pauseMs` follows each. */
  rounds: number;
  pauseMs: number;
}

/** Runs the load; resolves with the transactions committed (= `transactions`). */
export async function runPacedCounterLoad(url: string, load: PacedLoad, onRound?: (round: number) => void): Promise<number> {
  const perRound = Math.ceil(load.transactions / load.rounds);
  let committed = 0;
  for (let round = 0; committed < load.transactions; round++) {
    committed += await runCounterLoad(url, {
      rows: load.rows,
      transactions: Math.min(perRound, load.transactions - committed),
      perTx: load.perTx,
    });
    onRound?.(round);
    await sleep(load.pauseMs);
  }
  return committed;
}

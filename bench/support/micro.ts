// In-process rows: sequential operations, one after the other. Each round is cut into short
// slices taken in turn (A B C, C B A, …), so a busy moment of a shared machine hits every row
// of that round alike, and a round's ratio between two rows is fair.
import { median } from './rows.js';

export type Op = () => unknown;

/** An operation, timed over `ops` calls a round when given (rows that use up a pool), else seconds. */
export interface OpRow {
  op: Op;
  ops?: number;
}

export interface MicroStats {
  /** µs per operation in each round. */
  rounds: number[];
  opsPerSecond: number;
  microsPerOp: number;
}

/** Slices per round: enough that a 10 ms stall lands in one slice of one row, not a whole row. */
const SLICES = 10;

/** Runs one slice; returns [calls, µs]. */
async function slice({ op }: OpRow, calls: number | undefined, seconds: number) {
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  const more = () => (calls === undefined ? process.hrtime.bigint() < until : n < calls);
  do {
    // Sync operations are not awaited: an await would be part of what is timed.
    const result = op();
    if (result instanceof Promise) await result;
    n++;
  } while (more());
  return [n, Number(process.hrtime.bigint() - start) / 1e3] as const;
}

/**
 * `warmupOps` untimed operations per row first (JIT), then `rounds` rounds, each row getting
 * `ops` calls (or `seconds`) a round, spread over the round's slices.
 */
export async function measureOps<K extends string>(
  rows: Record<K, OpRow>,
  { rounds, seconds, warmupOps }: { rounds: number; seconds: number; warmupOps: number },
): Promise<Record<K, MicroStats>> {
  const keys = Object.keys(rows) as K[];
  for (const key of keys) {
    for (let i = 0; i < warmupOps; i++) await rows[key].op();
  }
  const perRound = new Map<K, number[]>(keys.map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    const totals = new Map<K, { calls: number; micros: number }>(
      keys.map((k) => [k, { calls: 0, micros: 0 }]),
    );
    for (let s = 0; s < SLICES; s++) {
      for (const key of s % 2 === 0 ? keys : [...keys].reverse()) {
        const { ops } = rows[key];
        const calls =
          ops === undefined
            ? undefined
            : Math.floor((ops * (s + 1)) / SLICES) - Math.floor((ops * s) / SLICES);
        const [n, micros] = await slice(rows[key], calls, seconds / SLICES);
        const total = totals.get(key);
        if (total) {
          total.calls += n;
          total.micros += micros;
        }
      }
    }
    for (const key of keys) {
      const total = totals.get(key) ?? { calls: 1, micros: 0 };
      perRound.get(key)?.push(total.micros / total.calls);
    }
  }
  return Object.fromEntries(
    keys.map((key) => {
      const list = perRound.get(key) ?? [];
      const micros = median(list);
      return [key, { rounds: list, opsPerSecond: 1e6 / micros, microsPerOp: micros }];
    }),
  ) as Record<K, MicroStats>;
}

/** Median over the rounds of a's µs/op over b's: the rounds ran side by side in time. */
export function costRatio(a: MicroStats, b: MicroStats): number {
  return median(a.rounds.map((micros, i) => micros / (b.rounds[i] ?? micros)));
}

// In-process rows: sequential operations, one after the other, in rounds taken in turn
// (A B C, C B A, …) so a busy moment of a shared machine hits every row alike.
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

/** µs per call over one round. */
async function timed({ op, ops }: OpRow, seconds: number): Promise<number> {
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  const more = () => (ops === undefined ? process.hrtime.bigint() < until : n < ops);
  do {
    // Sync operations are not awaited: an await would be part of what is timed.
    const result = op();
    if (result instanceof Promise) await result;
    n++;
  } while (more());
  return Number(process.hrtime.bigint() - start) / 1e3 / n;
}

/** `warmupOps` untimed operations per row first (JIT), then `rounds` rounds of `seconds` each. */
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
    for (const key of r % 2 === 0 ? keys : [...keys].reverse()) {
      perRound.get(key)?.push(await timed(rows[key], seconds));
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

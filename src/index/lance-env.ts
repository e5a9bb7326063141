// Imported before @lancedb/lancedb. On machines with ≤ 2 CPUs Lance reserves cores for I/O and runs compute on a
// single thread, and then building a full-text index over ≳ 20k rows deadlocks (LanceDB 0.31: the build never
// returns, at 0 % CPU; reproduced here on 2 cores, fixed by a larger compute pool). A user's own setting wins.
import * as os from 'node:os';

if (!process.env.LANCE_CPU_THREADS) process.env.LANCE_CPU_THREADS = String(Math.max(4, os.cpus().length));
export {};

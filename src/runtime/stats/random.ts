// Seeded uniform numbers for everything lvi draws (noise, random kernel sets): mulberry32, a
// 32-bit generator that is fast, small and the same on every platform; callers mix their seed
// and stream into the start state.

/** Uniform numbers in [0, 1) from a 32-bit start state. */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

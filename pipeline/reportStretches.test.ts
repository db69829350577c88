import { worstStretches, type ReportFix, type Stretch } from './reportStretches';

/** fixes at 5 per second; `errorAt(t)` their error, undefined: no truth */
function flight(seconds: number, errorAt: (t: number) => number | undefined): ReportFix[] {
  return Array.from({ length: seconds * 5 }, (_, i) => {
    const t = i / 5;
    const errorM = errorAt(t);
    return { frame: i * 6, t, lat: 47, lon: 8, radiusM: 10, method: 'retrieval', ...(errorM !== undefined ? { errorM, truth: { lat: 47, lon: 8 } } : {}) };
  });
}

describe('worstStretches', () => {
  test('the windows of highest mean error, worst first, never overlapping, each naming its worst fix', () => {
    // a bump at 10–12 s peaking at 11 s, a smaller one at 30–31 s, 1 m elsewhere
    const fixes = flight(40, (t) => (t >= 10 && t <= 12 ? 50 - 20 * Math.abs(t - 11) : t >= 30 && t <= 31 ? 20 : 1));
    const [first, second, third] = worstStretches(fixes, { count: 3, seconds: 5 });
    expect(first!.worst.t).toBeCloseTo(11, 9);
    expect(first!.worst.frame).toBe(11 * 5 * 6);
    expect(first!.fromT).toBeLessThanOrEqual(10);
    expect(first!.toT).toBeGreaterThanOrEqual(12);
    expect(second!.worst.errorM).toBe(20);
    expect(first!.meanErrorM).toBeGreaterThan(second!.meanErrorM);
    expect(second!.meanErrorM).toBeGreaterThan(third!.meanErrorM);
    const pairs: [Stretch, Stretch][] = [[first!, second!], [first!, third!], [second!, third!]];
    for (const [a, b] of pairs) expect(a.toT < b.fromT || a.fromT > b.toT).toBe(true);
  });

  test('fixes without truth count for nothing; none at all give no stretch; fewer windows than asked give what there is', () => {
    expect(worstStretches(flight(10, () => undefined))).toEqual([]);
    const partial = worstStretches(flight(6, (t) => (t < 2 ? undefined : 5)), { count: 3, seconds: 5 });
    expect(partial).toHaveLength(1);
    expect(partial[0]!.fromT).toBe(2);
  });
});

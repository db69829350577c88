import { Writable } from 'node:stream';
import { progressReporter } from './progress';

function collector(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => chunks.join('') };
}

describe('progressReporter', () => {
  test('on a terminal it redraws one bar in place and ends the line when finished', () => {
    const out = collector(true);
    const progress = progressReporter({ label: 'tiles', stream: out.stream });
    progress.update(0, 40);
    progress.update(40, 40);
    progress.finish();
    const text = out.text();
    expect(text.startsWith('\rtiles [')).toBe(true);
    expect(text).toContain('[##############################] 100% 40/40');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
  });

  test('in a file or pipe it writes plain lines, not one per update', () => {
    const out = collector(false);
    const progress = progressReporter({ label: 'tiles', stream: out.stream });
    for (let done = 0; done <= 1000; done++) progress.update(done, 1000);
    progress.finish();
    const lines = out.text().trimEnd().split('\n');
    expect(lines.length).toBeLessThan(5);
    expect(lines.every((l) => l.startsWith('tiles ') && !l.includes('\r') && !l.includes('['))).toBe(true);
    expect(lines[lines.length - 1]).toContain('100% 1000/1000');
  });

  test('bar: true forces the bar on a stream that is not a terminal', () => {
    const out = collector(false);
    const progress = progressReporter({ label: 'x', stream: out.stream, bar: true });
    progress.update(1, 2);
    expect(out.text()).toMatch(/^\rx \[#{15}\.{15}\]  50% 1\/2/);
  });
});

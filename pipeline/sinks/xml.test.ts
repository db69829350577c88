import { escapeXml } from './xml';

describe('escapeXml', () => {
  test('markup characters and folding whitespace become references', () => {
    expect(escapeXml(`<a b="c" d='e'>&\t\n\r`)).toBe('&lt;a b=&quot;c&quot; d=&apos;e&apos;&gt;&amp;&#9;&#10;&#13;');
  });

  test('characters XML 1.0 cannot hold become U+FFFD; the rest of Unicode passes', () => {
    expect(escapeXml('a\u0000b\u001fc\uFFFEd\uD800e')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe');
    expect(escapeXml('Zürich ✈ 🚁')).toBe('Zürich ✈ 🚁');
  });
});

/** Text made safe for an XML 1.0 attribute value or element content. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
/** characters with a meaning in markup, and whitespace an attribute value would fold into spaces */
const SPECIAL = /[&<>"'\t\n\r]/g;
/** characters XML 1.0 cannot hold at all (other controls, unpaired surrogates, U+FFFE/U+FFFF) */
const FORBIDDEN = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const REPLACEMENT = '\uFFFD';

export function escapeXml(text: string): string {
  return text.replace(FORBIDDEN, REPLACEMENT).replace(SPECIAL, (c) => ESCAPES[c]!);
}

/** One decimal number and nothing else: sign, digits with an optional fraction, optional exponent. */
const DECIMAL = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * The number a telemetry token spells, or undefined unless the whole token is one decimal
 * number. parseFloat and a prefix regex read `4x.59` as 4 and `48.59abc06807` as 48.59;
 * Number takes `0x30` as 48 and `Infinity`: none of these is a reading of an instrument.
 */
export function parseDecimal(token: string): number | undefined {
  return DECIMAL.test(token) ? Number(token) : undefined;
}

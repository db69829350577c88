/**
 * The ONNX graph of feature matching's similarity matrix, S = A·Bᵀ (one Gemm with transB), written
 * as protobuf bytes here rather than shipped: it is four messages deep, and made in code it needs
 * neither Python at setup nor a file to keep in step with the matcher.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const TAG_SHIFT = 3;

/** ONNX IR 8 (ONNX 1.10+) with the default-domain opset 13: what every ONNX Runtime ≥ 1.10 reads */
const IR_VERSION = 8;
const OPSET_VERSION = 13;
const FLOAT_ELEMENT = 1;
const ATTRIBUTE_INT = 2;

export const SIMILARITY_INPUTS = { a: 'a', b: 'b' } as const;
export const SIMILARITY_OUTPUT = 's';

function varint(value: number): number[] {
  const bytes: number[] = [];
  for (; value > 0x7f; value = Math.floor(value / 128)) bytes.push((value & 0x7f) | 0x80);
  bytes.push(value);
  return bytes;
}

/** One field: a number as a varint, a string or a message's bytes length-delimited. */
function field(number: number, value: number | string | Uint8Array): Uint8Array {
  if (typeof value === 'number') return Uint8Array.from([...varint((number << TAG_SHIFT) | WIRE_VARINT), ...varint(value)]);
  const payload = typeof value === 'string' ? new TextEncoder().encode(value) : value;
  return new Uint8Array([...varint((number << TAG_SHIFT) | WIRE_LENGTH_DELIMITED), ...varint(payload.length), ...payload]);
}

function message(...fields: Uint8Array[]): Uint8Array {
  return new Uint8Array(fields.flatMap((f) => [...f]));
}

/** ValueInfoProto of a float matrix with named (free) dimensions. */
function floatMatrix(name: string, rows: string, cols: string): Uint8Array {
  const dim = (param: string) => field(1, message(field(2, param)));
  const shape = message(dim(rows), dim(cols));
  const tensorType = message(field(1, FLOAT_ELEMENT), field(2, shape));
  return message(field(1, name), field(2, message(field(1, tensorType))));
}

/** ModelProto bytes of s[n, m] = a[n, dim] · b[m, dim]ᵀ, any sizes: one session serves every descriptor length. */
export function similarityModel(): Uint8Array {
  const transB = message(field(1, 'transB'), field(3, 1), field(20, ATTRIBUTE_INT));
  const gemm = message(field(1, SIMILARITY_INPUTS.a), field(1, SIMILARITY_INPUTS.b), field(2, SIMILARITY_OUTPUT), field(4, 'Gemm'), field(5, transB));
  const graph = message(
    field(1, gemm),
    field(2, 'similarity'),
    field(11, floatMatrix(SIMILARITY_INPUTS.a, 'n', 'dim')),
    field(11, floatMatrix(SIMILARITY_INPUTS.b, 'm', 'dim')),
    field(12, floatMatrix(SIMILARITY_OUTPUT, 'n', 'm')),
  );
  return message(field(1, IR_VERSION), field(8, message(field(1, ''), field(2, OPSET_VERSION))), field(7, graph));
}

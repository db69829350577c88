/**
 * Reads `metadata_props` from an ONNX file without a protobuf library. onnxruntime-node's
 * InferenceSession exposes input/output metadata but not the model's own key/value
 * metadata, and the format is simple: ModelProto field 14 is a repeated
 * StringStringEntryProto {1: key, 2: value}. Every other field is skipped by its length.
 */

const MODEL_GRAPH_FIELD = 7;
const MODEL_METADATA_PROPS_FIELD = 14;
const ENTRY_KEY_FIELD = 1;
const ENTRY_VALUE_FIELD = 2;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

export interface ProtobufField {
  number: number;
  wireType: number;
  /** the payload of a length-delimited field */
  bytes?: Uint8Array;
  /** byte range of the whole field, tag included */
  start: number;
  end: number;
}

/** Thrown when the bytes are not a well-formed protobuf ModelProto. */
export class OnnxFormatError extends Error {}

/** The top-level fields of a protobuf message, in order. */
export function* protobufFields(buf: Uint8Array): Generator<ProtobufField> {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (pos >= buf.length) throw new OnnxFormatError(`truncated varint at byte ${pos}`);
      const byte = buf[pos++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
      if (scale > 2 ** 63) throw new OnnxFormatError(`varint longer than 64 bits at byte ${pos}`);
    }
  };
  const skip = (n: number): void => {
    if (pos + n > buf.length) throw new OnnxFormatError(`field runs past the end (byte ${pos} + ${n} > ${buf.length})`);
    pos += n;
  };
  while (pos < buf.length) {
    const start = pos;
    const tag = varint();
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (number === 0) throw new OnnxFormatError(`field number 0 at byte ${pos}`);
    switch (wireType) {
      case WIRE_VARINT:
        varint();
        yield { number, wireType, start, end: pos };
        break;
      case WIRE_FIXED64:
        skip(8);
        yield { number, wireType, start, end: pos };
        break;
      case WIRE_FIXED32:
        skip(4);
        yield { number, wireType, start, end: pos };
        break;
      case WIRE_LENGTH_DELIMITED: {
        const length = varint();
        const payload = pos;
        skip(length);
        yield { number, wireType, bytes: buf.subarray(payload, payload + length), start, end: pos };
        break;
      }
      default:
        throw new OnnxFormatError(`unsupported wire type ${wireType} at byte ${pos}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The key/value metadata of an ONNX model. Throws OnnxFormatError when the bytes are not a ModelProto. */
export function readOnnxMetadataProps(model: Uint8Array): Map<string, string> {
  const props = new Map<string, string>();
  let hasGraph = false;
  for (const field of protobufFields(model)) {
    if (field.number === MODEL_GRAPH_FIELD && field.bytes) hasGraph = true;
    if (field.number !== MODEL_METADATA_PROPS_FIELD || !field.bytes) continue;
    let key = '';
    let value = '';
    for (const entryField of protobufFields(field.bytes)) {
      if (!entryField.bytes) continue;
      if (entryField.number === ENTRY_KEY_FIELD) key = utf8.decode(entryField.bytes);
      if (entryField.number === ENTRY_VALUE_FIELD) value = utf8.decode(entryField.bytes);
    }
    props.set(key, value);
  }
  if (!hasGraph) throw new OnnxFormatError('no graph (ModelProto field 7)');
  return props;
}

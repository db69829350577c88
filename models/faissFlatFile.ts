/**
 * Reads a FAISS IndexFlat file (as written by faiss::write_index, FAISS 1.7.x) into its
 * vectors. faiss-node's own static read() keeps one process-wide constructor reference
 * that dangles once a second worker thread has loaded the addon and exited (a segfault,
 * measured here), so index workers build their IndexFlatIP from these vectors instead.
 *
 * Layout: fourcc 'IxFI' (inner product) or 'IxF2' (L2); d int32; ntotal int64; two int64
 * placeholders; is_trained uint8; metric_type int32 (+ metric_arg float32 when > 1);
 * then the codes: a uint64 count of floats followed by the floats, little-endian.
 */

export interface FlatIndexData {
  metric: 'inner_product' | 'l2';
  dim: number;
  ntotal: number;
  /** ntotal·dim */
  vectors: Float32Array;
}

export class FaissFormatError extends Error {}

const FOURCC_FLAT_IP = 'IxFI';
const FOURCC_FLAT_L2 = 'IxF2';
const METRIC_INNER_PRODUCT = 0;
const METRIC_L2 = 1;
const FLOAT_BYTES = 4;

export function parseFlatIndex(buf: Buffer): FlatIndexData {
  let pos = 0;
  const need = (n: number, what: string) => {
    if (pos + n > buf.length) throw new FaissFormatError(`truncated at byte ${pos} reading ${what} (file has ${buf.length} bytes)`);
  };
  const int32 = (what: string) => (need(4, what), (pos += 4), buf.readInt32LE(pos - 4));
  const int64 = (what: string) => (need(8, what), (pos += 8), Number(buf.readBigInt64LE(pos - 8)));
  need(4, 'fourcc');
  const fourcc = buf.toString('latin1', 0, 4);
  pos = 4;
  if (fourcc !== FOURCC_FLAT_IP && fourcc !== FOURCC_FLAT_L2) {
    throw new FaissFormatError(`not a FAISS flat index (starts with ${JSON.stringify(fourcc)}, expected ${FOURCC_FLAT_IP} or ${FOURCC_FLAT_L2})`);
  }
  const dim = int32('dimension');
  const ntotal = int64('ntotal');
  int64('placeholder');
  int64('placeholder');
  need(1, 'is_trained');
  pos += 1;
  const metricType = int32('metric type');
  if (metricType > METRIC_L2) pos += FLOAT_BYTES;
  const count = int64('vector count');
  if (dim <= 0 || ntotal < 0 || count !== ntotal * dim) {
    throw new FaissFormatError(`inconsistent header: dimension ${dim}, ntotal ${ntotal}, ${count} floats stored`);
  }
  need(count * FLOAT_BYTES, 'vectors');
  if (pos + count * FLOAT_BYTES !== buf.length) throw new FaissFormatError(`${buf.length - pos - count * FLOAT_BYTES} unexpected bytes after the vectors`);
  // The floats start at an odd offset; slicing the ArrayBuffer copies them into alignment.
  const vectors = new Float32Array(buf.buffer.slice(buf.byteOffset + pos, buf.byteOffset + pos + count * FLOAT_BYTES));
  const metric = metricType === METRIC_INNER_PRODUCT ? 'inner_product' : 'l2';
  if ((metric === 'inner_product') !== (fourcc === FOURCC_FLAT_IP)) throw new FaissFormatError(`fourcc ${fourcc} disagrees with metric type ${metricType}`);
  return { metric, dim, ntotal, vectors };
}

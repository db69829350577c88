// Runs an ONNX model in onnxruntime-node for the parity test.
// usage: node ort_run.js MODEL.onnx INPUT.bin N,C,H,W OUT_DIR
// Reads float32 little-endian input, writes <output>.bin (float32) and shapes.json.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'node_modules', 'onnxruntime-node'));

async function main() {
  const [modelPath, inputPath, shapeText, outDir] = process.argv.slice(2);
  const dims = shapeText.split(',').map(Number);
  const buf = fs.readFileSync(inputPath);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const results = await session.run({ image: new ort.Tensor('float32', data, dims) });
  const shapes = {};
  for (const name of session.outputNames) {
    const tensor = results[name];
    fs.writeFileSync(path.join(outDir, `${name}.bin`), Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    shapes[name] = tensor.dims;
  }
  fs.writeFileSync(path.join(outDir, 'shapes.json'), JSON.stringify(shapes));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Imported before onnxruntime-node wherever it is loaded. ONNX Runtime's telemetry otherwise
 * writes an empty /tmp/mat-debug-<pid>.log on every run and grows a database under
 * ~/.cache/Microsoft; ORT_DISABLE_TELEMETRY, read when the library loads, turns both off. It
 * is set in the main thread, before any worker starts: a worker's process.env is a copy that
 * never reaches the native library's getenv.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';

import NodeEnvironment from 'jest-environment-node';

// onnxruntime-node checks `data instanceof Float32Array` against the host realm; jest's
// sandbox has its own typed-array constructors, so hand the host's ones to the tests.
const HOST_CONSTRUCTORS = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Float32Array', 'Float64Array',
  'Int8Array', 'Int16Array', 'Int32Array', 'BigInt64Array', 'Uint8Array',
  'Uint8ClampedArray', 'Uint16Array', 'Uint32Array', 'BigUint64Array',
] as const;

export default class HostRealmEnvironment extends NodeEnvironment {
  override async setup(): Promise<void> {
    await super.setup();
    for (const name of HOST_CONSTRUCTORS) {
      (this.global as Record<string, unknown>)[name] = globalThis[name];
    }
  }
}

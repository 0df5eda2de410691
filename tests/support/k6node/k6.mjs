// The `k6` module's stand-in (run.mjs): sleep blocks, as in k6.
export function sleep(seconds) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

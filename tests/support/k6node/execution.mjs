// k6/execution's stand-in (run.mjs): the ids k6.js reads, set by the runner.
export default { vu: { idInTest: 1 }, scenario: { iterationInTest: 0 } };

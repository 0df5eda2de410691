// k6/metrics' stand-in (run.mjs): every sample kept, for the test to read.
export const samples = [];

class Metric {
  constructor(name) {
    this.name = name;
  }

  add(value, tags = {}) {
    samples.push({ metric: this.name, value, tags });
  }
}

export class Counter extends Metric {}
export class Trend extends Metric {}

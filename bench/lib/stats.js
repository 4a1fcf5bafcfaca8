'use strict';

/** Small statistics over a list of numbers (ms, MB/s, MB). */

function sorted(values) {
  return [...values].sort((a, b) => a - b);
}

/** Linear-interpolated percentile, p in [0, 100]. */
function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

const median = (values) => percentile(values, 50);

/** The spread reported with every median: min, max and the interquartile range. */
function spread(values) {
  const s = sorted(values);
  return {
    n: s.length,
    min: round(s[0]),
    p25: round(percentile(s, 25)),
    p75: round(percentile(s, 75)),
    max: round(s[s.length - 1]),
  };
}

function round(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

module.exports = { percentile, median, spread, round };

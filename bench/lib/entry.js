'use strict';
const { median, spread, round } = require('./stats');

/**
 * Runs each contender `reps` times, alternating (ours, peer, …, then the next round starting one further on),
 * so slow drift of the shared machine hits every contender alike. Returns `{ contender: [samples…] }`.
 */
async function alternate(reps, contenders, log) {
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(rep + i) % names.length];
      const value = await contenders[name](rep);
      samples[name].push(value);
      log?.(`  rep ${rep + 1}/${reps} ${name}: ${JSON.stringify(value)}`);
    }
  }
  return samples;
}

/**
 * One row of the results: medians of ours and of the comparison, their ratio (ours/peer), the goal and whether
 * it was met. `goal` is `{ op: '>=' | '<=', value, of: 'ratio' | 'ours' }`.
 */
function entry({ name, unit, ours, peer, peerName, goal, note, extra }) {
  const oursMedian = median(ours);
  const peerMedian = peer?.length ? median(peer) : null;
  const ratio = peerMedian ? oursMedian / peerMedian : null;
  let met = null;
  if (goal) {
    const subject = goal.of === 'ratio' ? ratio : oursMedian;
    met = subject === null ? null : goal.op === '>=' ? subject >= goal.value : subject <= goal.value;
  }
  return {
    name,
    unit,
    ours: round(oursMedian),
    peer: round(peerMedian),
    peerName: peerName ?? null,
    ratio: round(ratio, 3),
    goal: goal ? `${goal.of === 'ratio' ? 'ratio' : 'ours'} ${goal.op} ${goal.value}` : null,
    met,
    spread: { ours: spread(ours), ...(peer?.length ? { peer: spread(peer) } : {}) },
    ...(note ? { note } : {}),
    ...(extra ? { extra } : {}),
  };
}

module.exports = { alternate, entry };

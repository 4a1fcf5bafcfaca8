'use strict';
/* global setInterval, clearInterval */
const { readFileSync, writeFileSync } = require('node:fs');

/** Memory of a process from /proc/<pid>/status, in MiB: current (VmRSS) and peak (VmHWM). */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => Number((status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm')) ?? [])[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/**
 * Resets the peak (VmHWM) to the current RSS (`echo 5 > /proc/<pid>/clear_refs`, Linux ≥ 4.0), so the peak of
 * one measured upload is not hidden by an earlier one. Returns false when the kernel refuses; the caller then
 * relies on its own sampling.
 */
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Measures a process's memory while `work` runs: peak RSS (VmHWM, reset first, plus sampling every 20 ms as a
 * cross-check) and its growth over `baselineMiB` (the server's idle RSS after a warm-up, so memory a server keeps
 * from an earlier upload counts against it). Returns `{ result, baselineMiB, peakMiB, growthMiB }`.
 */
async function measureMemory(pid, work, baselineMiB = memoryOf(pid).rssMiB) {
  const canReset = resetPeak(pid);
  let sampledPeak = memoryOf(pid).rssMiB;
  const timer = setInterval(() => {
    try {
      sampledPeak = Math.max(sampledPeak, memoryOf(pid).rssMiB);
    } catch {
      // the process ended
    }
  }, 20);
  try {
    const result = await work();
    const { hwmMiB, rssMiB } = memoryOf(pid);
    const peakMiB = Math.max(sampledPeak, rssMiB, canReset ? hwmMiB : 0);
    return { result, baselineMiB, peakMiB, growthMiB: peakMiB - baselineMiB };
  } finally {
    clearInterval(timer);
  }
}

/** The 1-minute load average, recorded with each run: other work on this 2-core machine skews the numbers. */
function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

module.exports = { memoryOf, resetPeak, measureMemory, loadAverage };

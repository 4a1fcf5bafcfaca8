import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A path segment the server may use: no separators, no `..`, no control or shell-special characters. */
const SAFE_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

export class UnsafePathError extends Error {
  override name = 'UnsafePathError';
}

export function isSafeSegment(segment: string): boolean {
  return SAFE_SEGMENT.test(segment) && !segment.includes('..');
}

/**
 * Joins segments under `root`, refusing any segment that could leave it, and checks the resolved result is
 * still inside `root` (defence in depth: every segment is server-generated or validated before it gets here).
 */
export function safeJoin(root: string, ...segments: string[]): string {
  for (const segment of segments) {
    if (!isSafeSegment(segment)) throw new UnsafePathError(`unsafe path segment: ${JSON.stringify(segment)}`);
  }
  const base = resolve(root);
  const target = resolve(join(base, ...segments));
  const rel = relative(base, target);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new UnsafePathError('path escapes the storage root');
  }
  return target;
}

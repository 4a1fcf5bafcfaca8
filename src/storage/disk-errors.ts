/** Errors that mean the disk, not the request, is the problem: answered with 507 Insufficient Storage. */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

export function isDiskFullError(error: unknown): boolean {
  return DISK_FULL.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

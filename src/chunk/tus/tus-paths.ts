/** Where tus is mounted (the global prefix `api` plus the controller path). */
export const TUS_PATH = '/api/tus';

/** Whether a request URL addresses the tus endpoint or one of its uploads. */
export function isTusPath(url: string | undefined): boolean {
  if (!url) return false;
  const path = url.split('?', 1)[0];
  return path === TUS_PATH || path.startsWith(`${TUS_PATH}/`);
}

/** Where the IETF draft's uploads are mounted (the global prefix `api` plus the controller path). */
export const IETF_PATH = '/api/uploads';

/** Whether a request URL addresses the IETF draft's creation resource or one of its uploads. */
export function isIetfUploadPath(url: string | undefined): boolean {
  if (!url) return false;
  const path = url.split('?', 1)[0];
  return path === IETF_PATH || path.startsWith(`${IETF_PATH}/`);
}

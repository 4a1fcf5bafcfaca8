import type { TestApp } from './test-app';

/**
 * Resolves once no completed upload has processing pending or running: the background jobs that earlier uploads
 * queued (thumbnails, poster, rendition) have written their derived files and records. Tests that compare stored
 * state before and after a request take their "before" after this, so a job finishing meanwhile is not mistaken
 * for a change the request made.
 */
export async function processingSettled(t: Pick<TestApp, 'connection'>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const busy = () =>
    t.connection
      .collection('media_uploads')
      .countDocuments({ 'processing.status': { $in: ['pending', 'running'] } });
  while ((await busy()) > 0) {
    if (Date.now() > deadline) throw new Error(`processing still busy after ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** Stored keys without the derived files (thumbnails, poster, rendition) that background processing adds. */
export function withoutDerived(keys: string[]): string[] {
  return keys.filter((key) => !key.startsWith('derived/'));
}

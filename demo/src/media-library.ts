import { sleep } from './format';
import { isProcessing, mediaTile, type Media } from './media-tile';
import { MediaViewer } from './media-viewer';
import type { Session } from './session';

const POLL_MS = 1000;

/**
 * "My media": the caller's uploads as a grid of thumbnails (polled while the server still makes them), a viewer,
 * and delete.
 */
export class MediaLibrary {
  private readonly list: HTMLUListElement;
  private readonly status: HTMLElement;
  private readonly viewer: MediaViewer;
  /** Bumped by every refresh and clear, so a poll of an older grid stops. */
  private generation = 0;

  constructor(
    private readonly session: Session,
    root: HTMLElement,
  ) {
    this.list = root.querySelector('#media-list')!;
    this.status = root.querySelector('#library-status')!;
    this.viewer = new MediaViewer(session, root, (message, isError) => this.say(message, isError));
    root.querySelector('#library-refresh')!.addEventListener('click', () => void this.refresh());
  }

  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const { data, error } = await this.session.api.GET('/api/media', { params: { query: { limit: 50 } } });
    if (generation !== this.generation) return;
    if (!data) {
      this.say(error?.message ?? 'Could not load your media', true);
      return;
    }
    this.list.replaceChildren(...data.items.map((item) => this.tile(item)));
    this.say(data.items.length === 0 ? 'No uploads yet' : `${data.items.length} upload(s)`);
    for (const item of data.items.filter(isProcessing)) void this.follow(item.uploadId, generation);
  }

  clear(): void {
    this.generation += 1;
    this.list.replaceChildren();
    this.viewer.close();
  }

  private tile(item: Media): HTMLLIElement {
    return mediaTile(this.session, item, {
      open: (media) => void this.viewer.open(media),
      remove: (media) => void this.remove(media.uploadId),
    });
  }

  /** Polls one upload until its processing has settled, then swaps its tile for one with the thumbnail. */
  private async follow(uploadId: string, generation: number): Promise<void> {
    for (;;) {
      await sleep(POLL_MS);
      if (generation !== this.generation) return;
      const { data } = await this.session.api.GET('/api/media/{id}', { params: { path: { id: uploadId } } });
      if (!data || generation !== this.generation) return;
      if (isProcessing(data.media)) continue;
      this.list
        .querySelector(`li[data-upload-id="${CSS.escape(uploadId)}"]`)
        ?.replaceWith(this.tile(data.media));
      return;
    }
  }

  private async remove(uploadId: string): Promise<void> {
    const { error } = await this.session.api.DELETE('/api/media/{id}', {
      params: { path: { id: uploadId } },
    });
    if (error) return this.say(error.message, true);
    if (this.viewer.uploadId === uploadId) this.viewer.close();
    this.say('Deleted');
    await this.refresh();
  }

  private say(message: string, isError = false): void {
    this.status.textContent = message;
    this.status.classList.toggle('error', isError);
  }
}

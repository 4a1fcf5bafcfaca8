import type { Schemas } from '../../client';
import { formatBytes } from './format';
import type { Session } from './session';

type Media = Schemas['MediaResponseDto'];

/** "My media": the caller's uploads, a player fed by signed links, and delete. */
export class MediaLibrary {
  private readonly list: HTMLUListElement;
  private readonly status: HTMLElement;
  private readonly player: HTMLVideoElement;

  constructor(
    private readonly session: Session,
    root: HTMLElement,
  ) {
    this.list = root.querySelector('#media-list')!;
    this.status = root.querySelector('#library-status')!;
    this.player = root.querySelector('#player')!;
    root.querySelector('#library-refresh')!.addEventListener('click', () => void this.refresh());
    this.player.addEventListener('loadedmetadata', () => this.revealDuration());
  }

  async refresh(): Promise<void> {
    const { data, error } = await this.session.api.GET('/api/media', { params: { query: { limit: 50 } } });
    if (!data) {
      this.say(error?.message ?? 'Could not load your media', true);
      return;
    }
    this.list.replaceChildren(...data.items.map((item) => this.row(item)));
    this.say(data.items.length === 0 ? 'No uploads yet' : `${data.items.length} upload(s)`);
  }

  clear(): void {
    this.list.replaceChildren();
    this.player.removeAttribute('src');
    this.player.hidden = true;
  }

  private row(item: Media): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.uploadId = item.uploadId;
    li.dataset.status = item.status;
    const name = item.title || item.originalName || item.uploadId;
    const meta = document.createElement('span');
    meta.className = 'meta';
    const size = item.fileSize === null ? '' : ` · ${formatBytes(item.fileSize)}`;
    meta.textContent = `${name} · ${item.fileType} · ${item.status}${size}`;
    li.append(meta);
    if (item.status === 'completed' && item.mimeType?.startsWith('video/')) {
      li.append(this.button(`Play`, `Play ${name}`, () => this.play(item.uploadId)));
    }
    if (item.status !== 'uploading') {
      const remove = this.button('Delete', `Delete ${name}`, () => this.remove(item.uploadId));
      remove.classList.add('danger');
      li.append(remove);
    }
    return li;
  }

  private button(text: string, label: string, onClick: () => Promise<void>): HTMLButtonElement {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = text;
    button.setAttribute('aria-label', label);
    button.addEventListener('click', () => void onClick());
    return button;
  }

  /** Players cannot send an Authorization header, so the video plays from a short-lived signed link. */
  private async play(uploadId: string): Promise<void> {
    const { data, error } = await this.session.api.POST('/api/media/{id}/signed-url', {
      params: { path: { id: uploadId } },
    });
    if (!data) return this.say(error?.message ?? 'Could not play this upload', true);
    delete this.player.dataset.duration;
    this.player.dataset.uploadId = uploadId;
    this.player.hidden = false;
    this.player.src = data.url;
    this.player.focus();
  }

  /**
   * MediaRecorder's WebM has no duration in its header, so browsers report Infinity until they have read the
   * end. Seeking far past the end makes them find it; then the player goes back to the start.
   */
  private revealDuration(): void {
    const player = this.player;
    const publish = () => {
      player.dataset.duration = String(player.duration);
    };
    if (Number.isFinite(player.duration)) return publish();
    const onChange = () => {
      if (!Number.isFinite(player.duration)) return;
      player.removeEventListener('durationchange', onChange);
      player.currentTime = 0;
      publish();
    };
    player.addEventListener('durationchange', onChange);
    player.currentTime = 1e101;
  }

  private async remove(uploadId: string): Promise<void> {
    const { error } = await this.session.api.DELETE('/api/media/{id}', {
      params: { path: { id: uploadId } },
    });
    if (error) return this.say(error.message, true);
    if (this.player.dataset.uploadId === uploadId) {
      this.player.removeAttribute('src');
      this.player.hidden = true;
    }
    this.say('Deleted');
    await this.refresh();
  }

  private say(message: string, isError = false): void {
    this.status.textContent = message;
    this.status.classList.toggle('error', isError);
  }
}

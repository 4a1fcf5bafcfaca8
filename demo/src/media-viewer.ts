import type { Session } from './session';
import { displayName, type Media } from './media-tile';

/**
 * Shows one upload: a video with its poster and its rendition (the seekable, browser-ready version), or a photo's
 * preview (a WebP, so a HEIC shows too). Players and <img> cannot send an Authorization header, so both load
 * from short-lived signed links.
 */
export class MediaViewer {
  private readonly root: HTMLElement;
  private readonly player: HTMLVideoElement;
  private readonly photo: HTMLImageElement;
  private readonly caption: HTMLElement;

  constructor(
    private readonly session: Session,
    root: HTMLElement,
    private readonly say: (message: string, isError?: boolean) => void,
  ) {
    this.root = root.querySelector('#viewer')!;
    this.player = root.querySelector('#player')!;
    this.photo = root.querySelector('#photo')!;
    this.caption = root.querySelector('#viewer-caption')!;
    root.querySelector('#viewer-close')!.addEventListener('click', () => this.close());
    this.player.addEventListener('loadedmetadata', () => this.revealDuration());
  }

  get uploadId(): string | undefined {
    return this.root.hidden ? undefined : this.root.dataset.uploadId;
  }

  async open(item: Media): Promise<void> {
    const { data, error } = await this.session.api.POST('/api/media/{id}/signed-url', {
      params: { path: { id: item.uploadId } },
    });
    if (!data) return this.say(error?.message ?? 'Could not open this upload', true);
    this.close();
    this.root.dataset.uploadId = item.uploadId;
    this.caption.textContent = displayName(item);
    if (item.mimeType?.startsWith('video/')) {
      this.player.dataset.uploadId = item.uploadId;
      if (data.posterUrl) this.player.poster = data.posterUrl;
      // Until processing is done there is no rendition link: the original plays (a recording may not seek yet).
      this.player.src = data.renditionUrl ?? data.url;
      this.player.hidden = false;
    } else {
      this.photo.src = data.previewUrl ?? data.renditionUrl ?? data.url;
      this.photo.alt = displayName(item);
      this.photo.hidden = false;
    }
    this.root.hidden = false;
    this.root.focus();
  }

  close(): void {
    this.player.pause();
    this.player.removeAttribute('src');
    this.player.removeAttribute('poster');
    this.player.load();
    delete this.player.dataset.duration;
    delete this.player.dataset.uploadId;
    this.player.hidden = true;
    this.photo.removeAttribute('src');
    this.photo.hidden = true;
    this.root.hidden = true;
  }

  /**
   * A MediaRecorder WebM played before its rendition exists has no duration in its header, so browsers report
   * Infinity until they have read the end. Seeking far past the end makes them find it; then back to the start.
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
}

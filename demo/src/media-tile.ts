import type { Schemas } from '../../client';
import { formatBytes, formatClock } from './format';
import type { Session } from './session';

export type Media = Schemas['MediaResponseDto'];

/** Whether the server may still make this upload's thumbnails (then the tile is polled). */
export function isProcessing(item: Media): boolean {
  return item.processing?.status === 'pending' || item.processing?.status === 'running';
}

export function displayName(item: Media): string {
  return item.title || item.originalName || item.uploadId;
}

/**
 * One grid cell: the small thumbnail with a duration badge on videos, or "processing…" until the thumbnail exists,
 * a caption and Delete. A completed upload's picture is a button that opens the viewer.
 */
export function mediaTile(
  session: Session,
  item: Media,
  actions: { open(item: Media): void; remove(item: Media): void },
): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.uploadId = item.uploadId;
  li.dataset.status = item.status;
  li.dataset.processing = item.processing?.status ?? 'none';
  const name = displayName(item);
  const picture = document.createElement(item.status === 'completed' ? 'button' : 'div');
  picture.className = 'tile';
  if (picture instanceof HTMLButtonElement) {
    picture.type = 'button';
    picture.setAttribute('aria-label', `Open ${name}`);
    picture.addEventListener('click', () => actions.open(item));
  }
  picture.append(thumbnailOrState(session, item));
  const duration = item.metadata?.duration;
  if (item.mimeType?.startsWith('video/') && typeof duration === 'number') {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = formatClock(duration);
    badge.setAttribute('aria-label', `Duration ${formatClock(duration)}`);
    picture.append(badge);
  }
  const caption = document.createElement('span');
  caption.className = 'meta';
  const size = item.fileSize === null ? '' : ` · ${formatBytes(item.fileSize)}`;
  caption.textContent = `${name} · ${item.fileType} · ${item.status}${size}`;
  li.append(picture, caption);
  if (item.status !== 'uploading') {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Delete';
    remove.className = 'danger';
    remove.setAttribute('aria-label', `Delete ${name}`);
    remove.addEventListener('click', () => actions.remove(item));
    li.append(remove);
  }
  return li;
}

function thumbnailOrState(session: Session, item: Media): HTMLElement {
  if (item.thumbnailUrl) {
    const img = document.createElement('img');
    img.className = 'thumb';
    img.alt = '';
    void loadThumbnail(session, item.uploadId, img);
    return img;
  }
  const state = document.createElement('span');
  state.className = 'placeholder';
  state.textContent = isProcessing(item)
    ? 'processing…'
    : item.status === 'completed'
      ? 'no preview'
      : item.status;
  return state;
}

/**
 * The thumbnail with the bearer token, shown as a data: URL (the page's CSP allows `img-src 'self' data:`, not
 * blob:). The server marks it immutable, so the browser's cache answers later loads.
 */
async function loadThumbnail(session: Session, id: string, img: HTMLImageElement): Promise<void> {
  const { data } = await session.api.GET('/api/media/{id}/thumbnail', {
    params: { path: { id } },
    parseAs: 'blob',
  });
  if (!data) return;
  img.src = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error ?? new Error('could not read the thumbnail'));
    reader.readAsDataURL(data);
  });
}

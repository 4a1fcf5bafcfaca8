/** Longest display name kept, in characters (the stored file name never comes from the client). */
export const MAX_ORIGINAL_NAME_LENGTH = 255;

// C0/C1 controls and DEL, bidirectional embeddings/overrides/isolates and marks (a U+202E can make "gnp.exe" read
// as "exe.png"), zero-width characters, BOM and the Unicode replacement character.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufffd]/gu;

/**
 * The client's file name, made safe to display: NFC, no control or bidi characters, no path, at most
 * MAX_ORIGINAL_NAME_LENGTH characters (cut on a code point, never inside a surrogate pair). Undefined when
 * nothing is left.
 */
export function sanitizeOriginalName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.normalize('NFC').replace(UNSAFE, '').trim();
  const capped = Array.from(clean).slice(0, MAX_ORIGINAL_NAME_LENGTH).join('').trim();
  return capped.length > 0 ? capped : undefined;
}

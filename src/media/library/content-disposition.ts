/**
 * An RFC 6266 Content-Disposition value: a plain-ASCII `filename` for old clients (accents dropped, anything else
 * unsafe replaced by `_`) and `filename*` (RFC 8187) carrying the exact UTF-8 name.
 */
export function contentDisposition(type: 'inline' | 'attachment', filename: string): string {
  return `${type}; filename="${asciiFallback(filename)}"; filename*=UTF-8''${encodeRfc8187(filename)}`;
}

export function asciiFallback(filename: string): string {
  const ascii = filename
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // "ç" decomposes to "c" + a combining cedilla
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return ascii.trim() || 'download';
}

/** Percent-encodes everything outside RFC 8187's attr-char set. */
function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

// Small helpers for the charts, which are SVG markup strings: testable in Node, inserted as-is.
export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(1)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly fill: string;
  readonly title: string;
  readonly label?: string;
  readonly className?: string;
}

export function rect(r: Rect): string {
  const label =
    r.label && r.width > 28 && r.height > 11
      ? `<text x="${r.x + 3}" y="${r.y + Math.min(r.height - 3, 12)}" font-size="10" fill="#111">${escapeXml(r.label)}</text>`
      : '';
  return `<g class="${r.className ?? 'block'}"><rect x="${r.x}" y="${r.y}" width="${Math.max(1, r.width)}" height="${Math.max(1, r.height)}" fill="${r.fill}" stroke="#333" stroke-width="0.5"><title>${escapeXml(r.title)}</title></rect>${label}</g>`;
}

export function text(x: number, y: number, s: string, attrs = '', title?: string): string {
  const tooltip = title ? `<title>${escapeXml(title)}</title>` : '';
  return `<text x="${x}" y="${y}" font-size="11" ${attrs}>${tooltip}${escapeXml(s)}</text>`;
}

export function svg(width: number, height: number, body: string, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(label)}" font-family="system-ui, sans-serif">${body}</svg>`;
}

// The shareable URL: the program and its options, as base64url JSON in the hash, so a link opens
// the same program compiled the same way.
export interface PlaygroundState {
  readonly source: string;
  readonly kernel?: string;
  readonly ranks: Readonly<Record<string, number>>;
  readonly scratchpad?: number;
  /** The COSMA planner's scratchpad budget; the pass runs only when it is set. */
  readonly cosmaScratchpad?: number;
  readonly threads: number;
}

function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(encoded: string): string {
  const binary = atob(encoded.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function encodeState(state: PlaygroundState): string {
  return `#p=${toBase64Url(JSON.stringify(state))}`;
}

/** The state in a URL hash, or undefined when there is none or it does not decode. */
export function decodeState(hash: string): PlaygroundState | undefined {
  const match = /^#p=([A-Za-z0-9_-]+)$/.exec(hash);
  if (!match) return undefined;
  try {
    const value = JSON.parse(fromBase64Url(match[1]!)) as Partial<PlaygroundState>;
    if (typeof value.source !== 'string') return undefined;
    return {
      source: value.source,
      kernel: typeof value.kernel === 'string' ? value.kernel : undefined,
      ranks: typeof value.ranks === 'object' && value.ranks !== null ? value.ranks : {},
      scratchpad: typeof value.scratchpad === 'number' ? value.scratchpad : undefined,
      cosmaScratchpad: typeof value.cosmaScratchpad === 'number' ? value.cosmaScratchpad : undefined,
      threads: typeof value.threads === 'number' ? value.threads : 1,
    };
  } catch {
    return undefined;
  }
}

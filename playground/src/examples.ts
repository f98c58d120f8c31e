// Every program of examples/, bundled as text by Vite's `?raw` glob import.
const files = import.meta.glob<string>('../../examples/*.ein', {
  query: '?raw',
  import: 'default',
  eager: true,
});

export interface Example {
  readonly name: string;
  readonly source: string;
}

export const EXAMPLES: readonly Example[] = Object.entries(files)
  .map(([path, source]) => ({ name: path.replace(/^.*\/(.*)\.ein$/, '$1'), source }))
  .sort((a, b) => a.name.localeCompare(b.name));

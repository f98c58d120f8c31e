// Typed element lookup: the page's structure lives in index.html; a missing id is a bug.
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`playground: no element #${id}`);
  return element as T;
}

export function setStatus(state: 'idle' | 'ok' | 'error' | 'busy', message: string): void {
  const status = byId('status');
  status.dataset.state = state;
  status.textContent = message;
}

/** History routing: the server answers every unknown path with index.html. */
export const route = $state({ path: location.pathname, search: location.search });

function sync(): void {
  route.path = location.pathname;
  route.search = location.search;
}

/** Follows back and forward buttons; returns the function that stops. */
export function startRouter(): () => void {
  window.addEventListener('popstate', sync);
  return () => window.removeEventListener('popstate', sync);
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  sync();
}

/** onclick for same-origin links: plain clicks route in place, modified clicks keep the browser's meaning. */
export function followLink(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (anchor.origin !== location.origin || anchor.hasAttribute('download')) return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}

export function searchParams(): URLSearchParams {
  return new URLSearchParams(route.search);
}

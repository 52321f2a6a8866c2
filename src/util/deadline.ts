// A promise raced against a timer (and an abort): for work that has no timeout of its own, such as
// client-node's requests. The work itself is not cancelled; its result is only no longer awaited.

export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    if (signal) {
      onAbort = () => reject(onTimeout());
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  return Promise.race([work, cut]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}

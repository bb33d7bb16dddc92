/** Listmonk names of a segment's daily list (and campaign): readable, and the idempotency key. */
export function listName(prefix: string, segment: string, date: string): string {
  return [prefix, segment, date].filter(Boolean).join(' ');
}

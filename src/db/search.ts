/** An ILIKE pattern matching text that contains `search`: `%` and `_` typed into a search box are meant literally. */
export function containsPattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

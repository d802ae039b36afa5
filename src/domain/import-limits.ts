/**
 * How much one member import may hold, sized from the list limit. Checked as the data arrives, so what an
 * import can cost in memory is bounded by these numbers, not by what a client sends.
 */
export interface ImportLimits {
  /** Rows, counting bad and duplicate ones: the list limit (MAX_LIST_SIZE). */
  maxRows: number;
  /** Bytes of the file or request body, after any content encoding is undone. */
  maxBytes: number;
  /** Bytes one row (one CSV record, one JSON entry) may take. */
  maxRowBytes: number;
}

/**
 * One row's most: an address (254), a name (200) and some thirty merge fields at their longest (2,000 each).
 * The header line and a JSON wrapper fit in it too, so the body limit adds it once.
 */
export const MAX_IMPORT_ROW_BYTES = 64 * 1024;

export function importLimits(settings: { MAX_LIST_SIZE: number; IMPORT_BYTES_PER_ROW: number }): ImportLimits {
  return {
    maxRows: settings.MAX_LIST_SIZE,
    maxBytes: settings.MAX_LIST_SIZE * settings.IMPORT_BYTES_PER_ROW + MAX_IMPORT_ROW_BYTES,
    maxRowBytes: MAX_IMPORT_ROW_BYTES,
  };
}

/** "51,265,536 bytes (50 MB)": the exact cap, and a size a person reads at a glance. */
export function describeBytes(bytes: number): string {
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  if (bytes < 1024 * 1024) return bytes < 1024 ? exact : `${exact} (${Math.round(bytes / 1024)} KB)`;
  return `${exact} (${Math.round(bytes / (1024 * 1024))} MB)`;
}

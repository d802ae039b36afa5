import type { Response } from 'express';
import type { DeliveryView } from '../domain/api-shapes.js';

const COLUMNS = ['seq', 'email', 'name', 'status', 'messageId', 'attempts', 'smtpResponse', 'claimedAt', 'finishedAt'] as const;

function csvCell(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : value === null || value === undefined ? '' : String(value);
  // A leading = + - @ makes spreadsheets evaluate the cell; quote it away.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Waits until the client has taken what was written, or has gone away. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

/**
 * A campaign's ledger as a CSV download, written row by row as the pages arrive, waiting for the
 * client to take each chunk: neither the ledger nor the file is ever held whole.
 */
export async function streamLedgerCsv(res: Response, campaignId: string, rows: AsyncIterable<DeliveryView>): Promise<void> {
  res.type('text/csv').attachment(`deliveries-${campaignId}.csv`);
  res.write(`${COLUMNS.join(',')}\n`);
  for await (const row of rows) {
    if (res.destroyed) return;
    if (!res.write(`${COLUMNS.map((c) => csvCell(row[c])).join(',')}\n`)) await drained(res);
  }
  res.end();
}

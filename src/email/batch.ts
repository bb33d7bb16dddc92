/**
 * Turning carriers' e-mail fields into a write batch (pure), before src/email/write-batch.ts
 * stores it in a few set-based statements.
 */
import { normalizeField, type NormalizedAddress } from './normalize.ts';

export interface CarrierField {
  dot_number: number;
  email_raw: string | null;
}

export interface CarrierLink {
  dot_number: number;
  address: string;
  /** Order in the carrier's field, from 1. */
  position: number;
}

export interface NormalizeBatch {
  /** Carriers whose links are replaced by `links` and whose state row is recorded. */
  carriers: CarrierField[];
  /** Carriers that no longer exist: their links and state row are removed. */
  removed: number[];
  /** Every distinct address to store (inserted, or re-judged when it exists). */
  addresses: NormalizedAddress[];
  links: CarrierLink[];
}

export function emptyBatch(): NormalizeBatch {
  return { carriers: [], removed: [], addresses: [], links: [] };
}

/** Normalizes the fields of `carriers` into one batch (addresses deduplicated across carriers). */
export function batchFromCarriers(carriers: readonly CarrierField[]): NormalizeBatch {
  const batch = emptyBatch();
  const seen = new Set<string>();
  for (const c of carriers) {
    batch.carriers.push({ dot_number: c.dot_number, email_raw: c.email_raw });
    normalizeField(c.email_raw).forEach((a, i) => {
      batch.links.push({ dot_number: c.dot_number, address: a.address, position: i + 1 });
      if (!seen.has(a.address)) {
        seen.add(a.address);
        batch.addresses.push(a);
      }
    });
  }
  return batch;
}

// Validation of path and query parameters. Ids follow the input contract (1-256 characters, the
// same bound the stream validates events with); `k` is an integer in 1..MAX_K.
import { HttpError } from './respond.js';

export const MAX_ID_LENGTH = 256;
export const MAX_K = 1000;

export function checkId(name: string, value: string): string {
  if (value.length === 0) throw new HttpError('INVALID_PARAMETER', `${name} must not be empty`);
  if (value.length > MAX_ID_LENGTH) {
    throw new HttpError('INVALID_PARAMETER', `${name} must be at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

/** `?k=`: absent → the default; otherwise a plain decimal integer in 1..MAX_K, else 400. */
export function parseK(url: URL, fallback: number): number {
  const raw = url.searchParams.get('k');
  if (raw === null) return fallback;
  const k = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
    throw new HttpError('INVALID_PARAMETER', `k must be an integer from 1 to ${MAX_K}`);
  }
  return k;
}

// Interaction CSVs: MovieLens ratings (`userId,movieId,rating,timestamp`, timestamp in seconds; also
// the `::`-separated ratings.dat) or a generic `userId,itemId[,timestamp]` (timestamp in ms).
// The first line may be a header. Every row becomes an ADD.

export type CsvLayout = 'movielens' | 'generic';

export interface CsvRow {
  readonly userId: string;
  readonly itemId: string;
  readonly occurredAt?: number;
}

export interface CsvFormat {
  readonly delimiter: string;
  readonly layout: CsvLayout;
  readonly hasHeader: boolean;
}

const DELIMITERS = ['::', '\t', ',', ';'];
const USER_COLUMNS = new Set(['userid', 'user_id', 'user', 'uid']);
const ITEM_COLUMNS = new Set(['itemid', 'item_id', 'item', 'movieid', 'movie_id', 'iid']);

/** Detects delimiter, layout and header from the first line. */
export function detectFormat(firstLine: string): CsvFormat {
  const delimiter = DELIMITERS.find((d) => firstLine.includes(d)) ?? ',';
  const cells = firstLine.split(delimiter).map((c) => c.trim().toLowerCase());
  // Ids may be words too, so only known column names make a header.
  const hasHeader = USER_COLUMNS.has(cells[0] ?? '') || ITEM_COLUMNS.has(cells[1] ?? '');
  let layout: CsvLayout;
  if (hasHeader) layout = cells.includes('movieid') || cells.includes('rating') ? 'movielens' : 'generic';
  else layout = cells.length === 4 ? 'movielens' : 'generic';
  return { delimiter, layout, hasHeader };
}

/** One data line → row, or undefined for a blank or malformed line. */
export function parseLine(line: string, format: CsvFormat): CsvRow | undefined {
  if (line.trim() === '') return undefined;
  const cells = line.split(format.delimiter).map((c) => c.trim());
  const userId = cells[0];
  const itemId = cells[1];
  if (!userId || !itemId) return undefined;
  const raw = format.layout === 'movielens' ? cells[3] : cells[2];
  if (raw === undefined || raw === '') return { userId, itemId };
  const t = Number(raw);
  if (!Number.isFinite(t) || t < 0) return undefined;
  return { userId, itemId, occurredAt: format.layout === 'movielens' ? Math.round(t * 1000) : Math.round(t) };
}

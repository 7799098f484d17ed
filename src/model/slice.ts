// Cooperative slicing of long model work (a flush, growing C): the work counts what it does in
// units of about one cell of C, and every QUANTUM units asks the caller whether to stop, so that the
// caller can yield to the event loop. One quantum is tens of microseconds of work: a slice overruns
// the caller's deadline by at most that plus one indivisible unit (one row of C).

export const QUANTUM = 1 << 15;
let quantum = QUANTUM;

/** Tests only: ask after every `units` (1: after every unit of work), to exercise every resume point. */
export function setSliceQuantum(units: number): void {
  quantum = units;
}

export class Slice {
  private work = 0;

  constructor(private readonly shouldYield: () => boolean) {}

  /** Counts `units` of work; true when the caller asked to stop (the work saves its place first). */
  spend(units: number): boolean {
    this.work += units;
    if (this.work < quantum) return false;
    this.work = 0;
    return this.shouldYield();
  }
}

/** Resumable work: does some, true once all is done. */
export type Step = (slice: Slice) => boolean;

/** Runs a step to completion in one go. */
export function runToEnd(step: Step): void {
  const slice = new Slice(() => false);
  while (!step(slice));
}

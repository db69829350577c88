/**
 * Credit between a producer and its consumer, as in Reactive Streams' request(n): the
 * producer emits only while it holds credit, the consumer grants more as it finishes work.
 * Unlimited credit (the default) is a plain push stream.
 */
export class Demand {
  private credit: number;
  private readonly listeners = new Set<() => void>();

  constructor(initialCredit = Infinity) {
    this.credit = initialCredit;
  }

  get available(): boolean {
    return this.credit > 0;
  }

  take(): void {
    this.credit -= 1;
  }

  grant(n: number): void {
    this.credit += n;
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` whenever credit is granted; returns the function that stops it. */
  onGrant(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

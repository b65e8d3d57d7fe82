// Runs async jobs one at a time per key, in submission order. The gateway writes each
// instance's and managed host's connectivity through it, so a "connected" write of a new
// session can never be overtaken by the "disconnected" write of the session it replaced.
export class KeySerializer {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const result = prev.then(job);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves once every job submitted so far (and any they submit) has finished. */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  get pending(): number {
    return this.tails.size;
  }
}

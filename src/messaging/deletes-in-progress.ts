/**
 * Deletes still running, by the name of what they delete. Topic partitions and bus logs live
 * in directories named after the topic or bus, so a create under the same name waits for the
 * delete to finish (it would otherwise open what the delete is closing and removing).
 */
export class DeletesInProgress {
  private readonly running = new Map<string, Promise<void>>();

  /** Runs `remove` as the delete of `name`, unless one is running already: then joins it. */
  run(name: string, remove: () => Promise<void>): Promise<void> {
    const running = this.running.get(name);
    if (running !== undefined) return running;
    const deleting = remove().finally(() => this.running.delete(name));
    this.running.set(name, deleting);
    return deleting;
  }

  /** Whether a delete of `name` is running: what it deletes is as good as gone. */
  has(name: string): boolean {
    return this.running.has(name);
  }

  /** Resolves once no delete of `name` is running, however it ended. */
  async finished(name: string): Promise<void> {
    await this.running.get(name)?.catch(() => undefined);
  }
}

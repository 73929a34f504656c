/**
 * Runs `work`, naming `name` in the message of what it throws: a long test's failure then says
 * which of its steps failed (a bare "TimeoutError: timeout" does not).
 */
export async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`${name}: ${message}`, { cause: error });
  }
}

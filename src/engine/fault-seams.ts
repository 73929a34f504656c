/**
 * Named places where chaos experiments and tests inject faults without monkey-patching.
 * A hook that throws makes the engine see that operation fail.
 */
export interface FaultSeams {
  beforeWrite?(path: string, bytes: number): void;
  afterWrite?(path: string, bytes: number): void;
  beforeFsync?(path: string): void | Promise<void>;
  afterFsync?(path: string): void | Promise<void>;
}

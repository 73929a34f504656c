import { statSync } from "node:fs";
import { join } from "node:path";
import { SluiceError } from "../errors/index.js";

/** What a command found at the directory it was given. */
export type ExistingDirectory =
  /** A data directory of `open(dir)`: the primitives in their sub-directories. */
  | "data-directory"
  /** A queue directory of `EmbeddedQueueService.open(dir)` (its `catalog/` at the top). */
  | "queue-directory";

/**
 * Fails unless `dir` already holds Sluice's data. Commands that look into a data directory, or
 * feed what is in one, never make one: opening a mistyped path would answer an empty listing
 * and leave five new directories behind.
 */
export async function requireExistingDataDir(
  dir: string,
  field: string,
): Promise<ExistingDirectory> {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw cause;
    throw new SluiceError("SLUICE_NOT_FOUND", `${field}: ${dir} does not exist`, {
      field,
      details: { dir },
    });
  }
  if (!isDirectory)
    throw new SluiceError("SLUICE_VALIDATION", `${field}: ${dir} is not a directory`, {
      field,
      details: { dir },
    });
  // Loaded here: `sluice --help` needs none of it.
  const [{ isDataDirectory, PRIMITIVE_DIRECTORIES }, { nodeFileSystem }] = await Promise.all([
    import("../sluice/data-dir-layout.js"),
    import("../engine/file-system.js"),
  ]);
  if (nodeFileSystem.exists(join(dir, "catalog"))) return "queue-directory";
  if (isDataDirectory(nodeFileSystem, dir)) return "data-directory";
  throw new SluiceError(
    "SLUICE_NOT_FOUND",
    `${field}: ${dir} is not a Sluice data directory (none of ${PRIMITIVE_DIRECTORIES.map((d) => `${d}/`).join(", ")} in it)`,
    { field, details: { dir } },
  );
}

import { existsSync, readdirSync, rmSync, rmdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
// Everything a data directory stores is in a log's segments.
import { LOG_SUFFIX } from "../engine/segment.js";
import { SluiceError } from "../errors/index.js";

/** What a command opened on a data directory that may be new. */
export interface OpenedDataDir<S> {
  readonly opened: S;
  /**
   * After a failure, with `opened` closed: removes the directory (and the parents made for it)
   * if this run created it and no log in it changed since it opened.
   */
  readonly discardIfUnused: () => void;
}

/**
 * Opens `dir` (which `open` creates if it is missing) so that a command that fails leaves no
 * directory behind that it made itself: a mistyped path, a taken port or an unreachable server
 * then leaves nothing. A directory that existed before is never touched, nor one holding
 * anything opening did not write. A path that is, or is under, a file is refused first, naming
 * `field` (the option or argument that gave it).
 */
export async function openDataDir<S>(
  dir: string,
  field: string,
  open: () => Promise<S>,
): Promise<OpenedDataDir<S>> {
  const path = resolve(dir);
  // The directories opening creates, the outermost first.
  const missing: string[] = [];
  let existing = path;
  for (; !existsSync(existing) && dirname(existing) !== existing; existing = dirname(existing))
    missing.unshift(existing);
  if (!statSync(existing).isDirectory())
    throw new SluiceError(
      "SLUICE_VALIDATION",
      existing === path
        ? `${field}: ${dir} is not a directory`
        : `${field}: ${dir} cannot be made: ${existing} is not a directory`,
      { field, details: { dir } },
    );
  let opened: S;
  try {
    opened = await open();
  } catch (error) {
    // A failed open wrote nothing worth keeping only if it wrote nothing at all.
    if (missing.length > 0 && existsSync(path) && readdirSync(path).length === 0)
      discard(path, missing);
    throw error;
  }
  const baseline = missing.length === 0 ? undefined : logSizes(path);
  return {
    opened,
    discardIfUnused: () => {
      if (baseline === undefined || !existsSync(path)) return;
      const now = logSizes(path);
      if (
        now.size !== baseline.size ||
        [...now].some(([file, size]) => baseline.get(file) !== size)
      )
        return;
      discard(path, missing);
    },
  };
}

/**
 * Runs `use` on what `open` opened on `dir`, and closes it; if `use` fails, a directory this
 * run created is removed again as `openDataDir` says.
 */
export async function withDataDir<S extends { close(): Promise<void> }, T>(
  dir: string,
  field: string,
  open: () => Promise<S>,
  use: (opened: S) => Promise<T>,
): Promise<T> {
  const { opened, discardIfUnused } = await openDataDir(dir, field, open);
  let result: T;
  try {
    result = await use(opened);
  } catch (error) {
    await opened.close();
    discardIfUnused();
    throw error;
  }
  await opened.close();
  return result;
}

/** Removes `path`, then the parents made for it, innermost first, each only while it is empty. */
function discard(path: string, missing: readonly string[]): void {
  rmSync(path, { recursive: true, force: true });
  for (const parent of missing.slice(0, -1).reverse())
    try {
      rmdirSync(parent);
    } catch {
      return;
    }
}

/** The size of every log segment under `root`, by its path relative to `root`. */
function logSizes(root: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(LOG_SUFFIX))
        sizes.set(relative(root, path), statSync(path).size);
    }
  };
  walk(root);
  return sizes;
}

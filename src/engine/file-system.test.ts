import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isSluiceError } from "../errors/index.js";
import {
  type FileSystem,
  NodeFileSystem,
  makeDirectory,
  removeCreatedDirectories,
} from "./file-system.js";
import { SimulatedFileSystem } from "./simulated-file-system.js";

const realRoot = mkdtempSync(join(tmpdir(), "sluice-fs-"));
afterAll(() => rmSync(realRoot, { recursive: true, force: true }));

// The simulated disk is only worth its tests if it behaves like the real one.
const implementations: Array<[string, () => { fs: FileSystem; root: string }]> = [
  ["NodeFileSystem", () => ({ fs: new NodeFileSystem(), root: mkdtempSync(join(realRoot, "t-")) })],
  ["SimulatedFileSystem", () => ({ fs: new SimulatedFileSystem(), root: "/sim" })],
];

describe.each(implementations)("%s", (_name, make) => {
  it("writes, reads at positions, truncates and reports sizes", async () => {
    const { fs, root } = make();
    fs.mkdir(root);
    const file = fs.open(join(root, "a.log"), "write");
    file.write(Buffer.from("hello world"), 0);
    file.write(Buffer.from("HELLO"), 6);
    expect(file.size()).toBe(11);
    const buf = Buffer.alloc(20);
    expect(file.read(buf, 0, 20, 0)).toBe(11);
    expect(buf.subarray(0, 11).toString()).toBe("hello HELLO");
    file.truncate(5);
    expect(file.size()).toBe(5);
    expect(file.read(buf, 0, 20, 5)).toBe(0);
    await file.sync();
    file.close();
  });

  it("lists, renames, unlinks and writes small files atomically", async () => {
    const { fs, root } = make();
    fs.mkdir(join(root, "d"));
    fs.open(join(root, "d", "x"), "write").close();
    await fs.writeFileAtomic(join(root, "d", "cp"), Buffer.from("42"));
    await fs.writeFileAtomic(join(root, "d", "cp"), Buffer.from("43"));
    expect(fs.list(join(root, "d")).sort()).toEqual(["cp", "x"]);
    expect(fs.readFile(join(root, "d", "cp")).toString()).toBe("43");
    fs.rename(join(root, "d", "x"), join(root, "d", "y"));
    expect(fs.exists(join(root, "d", "x"))).toBe(false);
    fs.unlink(join(root, "d", "y"));
    fs.unlink(join(root, "d", "never-existed"));
    expect(fs.list(join(root, "d"))).toEqual(["cp"]);
    await fs.syncDir(join(root, "d"));
  });

  it("gives typed errors for missing and existing files", () => {
    const { fs, root } = make();
    fs.mkdir(root);
    expect(() => fs.open(join(root, "missing"), "read")).toThrow(
      expect.objectContaining({ code: "SLUICE_NOT_FOUND" }),
    );
    fs.open(join(root, "once"), "create-exclusive").close();
    let error: unknown;
    try {
      fs.open(join(root, "once"), "create-exclusive");
    } catch (e) {
      error = e;
    }
    expect(isSluiceError(error, "SLUICE_ALREADY_EXISTS")).toBe(true);
  });

  it("removes a directory whose name is free at once, leaving nothing once settled", async () => {
    const { fs, root } = make();
    fs.mkdir(join(root, "q", "segments"));
    fs.open(join(root, "q", "segments", "0.log"), "write").close();
    const removing = fs.removeDir(join(root, "q"));
    expect(fs.exists(join(root, "q"))).toBe(false);
    fs.mkdir(join(root, "q"));
    fs.open(join(root, "q", "fresh"), "write").close();
    await removing;
    expect(fs.list(root)).toEqual(["q"]);
    expect(fs.list(join(root, "q"))).toEqual(["fresh"]);
    await fs.removeDir(join(root, "missing"));
  });

  it("makes directories with their parents, and names a file in the way as bad input", async () => {
    const { fs, root } = make();
    fs.mkdir(root);
    expect(await makeDirectory(fs, join(root, "a", "b"))).toEqual([
      join(root, "a"),
      join(root, "a", "b"),
    ]);
    expect(await makeDirectory(fs, join(root, "a", "b"))).toEqual([]);
    expect(fs.list(join(root, "a"))).toEqual(["b"]);
    fs.open(join(root, "file"), "write").close();
    for (const dir of [join(root, "file"), join(root, "file", "sub")])
      await expect(makeDirectory(fs, dir, "dataDir")).rejects.toMatchObject({
        code: "SLUICE_VALIDATION",
        field: "dataDir",
        message: `dataDir: ${join(root, "file")} is not a directory`,
      });
  });

  it("removes what makeDirectory created, keeping a parent that holds something else", async () => {
    const { fs, root } = make();
    fs.mkdir(root);
    const created = await makeDirectory(fs, join(root, "x", "y", "z"));
    fs.open(join(root, "x", "y", "z", "file"), "write").close();
    await removeCreatedDirectories(fs, created);
    expect(fs.list(root)).toEqual([]);
    const again = await makeDirectory(fs, join(root, "x", "y"));
    fs.mkdir(join(root, "x", "other"));
    await removeCreatedDirectories(fs, again);
    expect(fs.list(join(root, "x"))).toEqual(["other"]);
    await removeCreatedDirectories(fs, []);
  });
});

describe("SimulatedFileSystem crashes", () => {
  it("keeps synced bytes and loses (or tears) the rest", async () => {
    const fs = new SimulatedFileSystem(7);
    fs.mkdir("/c");
    const file = fs.open("/c/f", "write");
    file.write(Buffer.from("durable|"), 0);
    await file.sync();
    await fs.syncDir("/c");
    await fs.syncDir("/");
    file.write(Buffer.from("volatile"), 8);
    fs.crash({ unsyncedPages: "lose", unsyncedEntries: "lose" });
    expect(fs.readFile("/c/f").toString()).toBe("durable|");
    expect(() => file.size()).toThrow(/crash/);
    const again = fs.open("/c/f", "write");
    again.write(Buffer.from("0123456789"), 8);
    fs.crash();
    const kept = fs.readFile("/c/f").toString();
    expect(kept.startsWith("durable|")).toBe(true);
    expect("durable|0123456789".startsWith(kept)).toBe(true);
  });
});

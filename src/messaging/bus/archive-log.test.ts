import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../time/virtual-clock.js";
import { ArchiveLog } from "./archive-log.js";

const DAY_MS = 86_400_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function archiveKeepingForever(clock: VirtualClock): Promise<ArchiveLog> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-archive-"));
  dirs.push(dir);
  return ArchiveLog.open(
    dir,
    { name: "a", uid: "u", bus: "default", retentionDays: 0, createdMs: clock.now() },
    clock,
  );
}

describe("ArchiveLog retention", () => {
  it("a retention set after opening applies at once: events past it go, newer ones stay", async () => {
    const clock = new VirtualClock();
    const archive = await archiveKeepingForever(clock);
    try {
      await archive.append([{ text: '{"n":1}', ingestedMs: clock.now() }]);
      // A week later the archive rolls to a new segment; retention drops whole segments.
      await clock.advance(8 * DAY_MS);
      await archive.append([{ text: '{"n":2}', ingestedMs: clock.now() }]);
      await archive.log.enforceRetention();
      expect(archive.eventCount).toBe(2);

      await archive.setRetentionDays(3);
      expect(archive.eventCount).toBe(1);
      expect(archive.log.read(archive.log.logStartOffset)[0]?.value?.toString()).toBe('{"n":2}');

      // Back to forever: nothing more goes, however old.
      await archive.setRetentionDays(0);
      await clock.advance(30 * DAY_MS);
      await archive.append([{ text: '{"n":3}', ingestedMs: clock.now() }]);
      await archive.log.enforceRetention();
      expect(archive.eventCount).toBe(2);
    } finally {
      await archive.close();
    }
  });
});

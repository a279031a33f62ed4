// Unit tests of the renderer's shared-memory parts (no host): the size parser of "Create shared
// memory…", and the LiveView's flash bookkeeping (ranges kept ~1.5 s, found per row, then gone;
// visible ranges and the interval sent to the host as `watch`, debounced and de-duplicated).

import { expect, test } from "@playwright/test";
import { parseByteSize } from "../renderer/src/shm/size";
import { FLASH_MS, LiveView } from "../renderer/src/shm/liveView";

test.beforeEach(({}, testInfo) => {
  testInfo.skip(testInfo.project.name !== "browser-host", "pure unit tests: run once, in the browser-host project");
});

test("size parser: bytes, 0x hex, KiB/MiB/GiB and K/M/G, errors", () => {
  expect(parseByteSize("4096")).toEqual({ ok: true, size: 4096 });
  expect(parseByteSize(" 0x1000 ")).toEqual({ ok: true, size: 4096 });
  expect(parseByteSize("4 KiB")).toEqual({ ok: true, size: 4096 });
  expect(parseByteSize("64k")).toEqual({ ok: true, size: 65536 });
  expect(parseByteSize("1MiB")).toEqual({ ok: true, size: 1024 * 1024 });
  expect(parseByteSize("1.5 MiB")).toEqual({ ok: true, size: 1.5 * 1024 * 1024 });
  expect(parseByteSize("2 GB")).toEqual({ ok: true, size: 2 * 1024 ** 3 });
  expect(parseByteSize("1_000")).toEqual({ ok: true, size: 1000 });
  for (const bad of ["", "huge", "0", "-5", "1.3 B", "4 TiB", "17 GiB", "12 parsecs", "0x"]) {
    const r = parseByteSize(bad);
    expect(r.ok, bad).toBe(false);
  }
  expect(parseByteSize("12 parsecs")).toMatchObject({ error: expect.stringContaining("Unknown unit") });
  expect(parseByteSize("17 GiB")).toMatchObject({ error: expect.stringContaining("too large") });
});

test("LiveView: flashes per row, fading out after FLASH_MS; watch requests debounced", async () => {
  const sent: Array<[string, unknown]> = [];
  const api = {
    request: async (type: string, params: unknown) => {
      sent.push([type, params]);
      return {} as never;
    },
  };
  const live = new LiveView(api as never, "d7");
  let versions = 0;
  live.subscribe(() => versions++);

  live.setVisible(0, 640);
  live.setVisible(16, 640);
  live.setVisible(16, 640);
  await new Promise((r) => setTimeout(r, 80));
  expect(sent).toEqual([["watch", { docId: "d7", ranges: [{ offset: 16, length: 640 }], intervalMs: 100 }]]);
  live.setIntervalMs(250);
  await new Promise((r) => setTimeout(r, 20));
  expect(sent.at(-1)).toEqual(["watch", { docId: "d7", ranges: [{ offset: 16, length: 640 }], intervalMs: 250 }]);

  live.noteChanged([
    { offset: 8, length: 6 },
    { offset: 30, length: 4 },
  ]);
  expect(versions).toBeGreaterThan(0);
  expect(live.changes).toBe(1);
  expect(live.flashesIn(0, 16).map((f) => [f.offset, f.length])).toEqual([[8, 6]]);
  expect(live.flashesIn(16, 16).map((f) => [f.offset, f.length])).toEqual([[30, 4]]);
  expect(live.flashesIn(32, 16).map((f) => [f.offset, f.length])).toEqual([[30, 4]]);
  expect(live.flashesIn(48, 16)).toEqual([]);
  await new Promise((r) => setTimeout(r, FLASH_MS + 100));
  expect(live.flashesIn(0, 64)).toEqual([]);
  live.dispose();
});

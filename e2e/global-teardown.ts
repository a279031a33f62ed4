// Deletes the fixtures global-setup made (the 64 GiB sparse file among them).

import { removeFixtures, type Fixtures } from "./fixture-files";

export default async function globalTeardown(): Promise<void> {
  const raw = process.env.HEXMAP_E2E_FIXTURES;
  if (!raw) return;
  const fixtures = JSON.parse(raw) as Fixtures;
  removeFixtures(fixtures.dir);
}

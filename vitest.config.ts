import { defineConfig } from 'vitest/config';

// Three tiers (DEVELOPERS.md): unit (pure, fake timers), integration (real peers on loopback),
// e2e (real Chromium). `npm test` runs all three; `npm run test:unit` only the fast one.
export default defineConfig({
  test: {
    // Integration and e2e start real peers on fixed budgets of 2 cores: one file at a time, and one tier
    // after the other (vitest runs projects in parallel unless each has a sequence.groupOrder). Parallel
    // tiers raced for free ports (freePort() then bind) and starved the e2e media timing.
    fileParallelism: false,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 2 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});

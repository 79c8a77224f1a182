// The failover tests against a real three-broker cluster (test/cluster). `make test` runs them after the other tests,
// as a run of their own: the cluster's start and its faults would otherwise share two cores with the integration tests.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/cluster/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
})

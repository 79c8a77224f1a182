// The failover tests against a real three-broker cluster (test/cluster), run by `make test-cluster`: not yet part of
// `make test`, while a node restart in the rolling-restart test is sometimes reported as failed by scripts/stack.sh.
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

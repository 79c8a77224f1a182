// The container tests (test/container): the built image run with testcontainers against the local stack's Kafka and
// registry. Host networking only, and no Ryuk (testcontainers' reaper): its image cannot be pulled here, and the
// tests remove their containers themselves. Run by scripts/container-tests.sh (make test, make test-container).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    include: ['test/container/**/*.test.ts'],
    globalSetup: ['test/container/global-setup.ts'],
    // The host the containers are reached on is this one's loopback (host networking): said outright, because inside
    // a container testcontainers would look for the engine's "bridge" network, which an engine without one lacks.
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1' },
    testTimeout: 240_000,
    hookTimeout: 600_000,
  },
})

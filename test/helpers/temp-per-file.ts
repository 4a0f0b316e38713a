import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { cacheRoot } from '../../local/dynamodb-local.js';

/**
 * A setup file (vitest.config.ts): each test file gets a temp folder of its own, removed when the
 * file is done. TMPDIR points there, which os.tmpdir() reads at every call and the processes a test
 * starts inherit, so what a test, the CLI it runs or CDK's synth leaves in the temp folder (projects,
 * run scratch, cdk.out folders: ~100 MB per suite run before) goes with it. What is kept between
 * runs on purpose stays where it was: DynamoDB Local's compiled launcher and class-data archive
 * (LOADTEST_CACHE_DIR) and Node's compile cache.
 */
const machineTemp = tmpdir();
const saved = {
  TMPDIR: process.env.TMPDIR,
  LOADTEST_CACHE_DIR: process.env.LOADTEST_CACHE_DIR,
  NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE,
};
process.env.LOADTEST_CACHE_DIR = cacheRoot();
process.env.NODE_COMPILE_CACHE ??= join(machineTemp, 'node-compile-cache');
const own = mkdtempSync(join(machineTemp, 'loadtest-test-'));
process.env.TMPDIR = own;

afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(own, { recursive: true, force: true, maxRetries: 3 });
});

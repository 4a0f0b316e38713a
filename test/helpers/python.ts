import { execFileSync } from 'node:child_process';

/**
 * Debian's Python with Debian's boto3 (not a pyenv one on PATH): the client in another language the
 * tests run against the gate. `.ci/run` installs `python3-boto3`; LOADTEST_PYTHON points elsewhere.
 */
export const PYTHON = process.env.LOADTEST_PYTHON ?? '/usr/bin/python3';

/** Throws, saying how to install it, when PYTHON cannot import boto3. */
export function requireBoto3(): void {
  try {
    execFileSync(PYTHON, ['-c', 'import boto3'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(
      `${PYTHON} cannot import boto3: install Debian's \`apt-get install -y python3-boto3\` (or set LOADTEST_PYTHON): ${(err as Error).message}`,
    );
  }
}

import { fileURLToPath } from 'node:url';

/** The repository root: the Docker build context of both images (filtered by `.dockerignore`). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * What each image needs from the context, as Docker ignore patterns applied after `.dockerignore`:
 * everything else is left out, so a change elsewhere (a test, infra/) neither rebuilds nor
 * redeploys the image, and synth hashes and copies only these files.
 */
export function onlyInContext(...keep: string[]): string[] {
  return ['*', ...keep.map((p) => `!${p}`)];
}

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../runner/cli/errors.js';
import { checkOutputs, writeOutput } from '../../runner/cli/outputs.js';

describe("a command's output files", () => {
  it('are checked before any work: a folder, or a path under a file, is bad input naming the flag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-outputs-'));
    const file = join(dir, 'taken.txt');
    await writeFile(file, 'x');
    await expect(checkOutputs([['--html', dir]])).rejects.toThrow(
      new UsageError(`--html ${dir}: that is a folder; name a file (in it)`),
    );
    await expect(checkOutputs([['--junit', join(file, 'x.xml')]])).rejects.toThrow(
      /^--junit .*x\.xml: cannot be written here \((EEXIST|ENOTDIR)\)$/,
    );
    // A folder that does not exist yet is made; a flag not given is skipped.
    await checkOutputs([
      ['--output', join(dir, 'new', 'deeper', 'report.json')],
      ['--markdown', undefined],
    ]);
    expect(await writeOutput('--output', join(dir, 'new', 'deeper', 'report.json'), '{}')).toBe(true);
    expect(await readFile(join(dir, 'new', 'deeper', 'report.json'), 'utf8')).toBe('{}');
  });

  it('that fail to be written at the end are said, naming the flag, and the caller goes on', async () => {
    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      // No process can create a file in /proc's root.
      expect(await writeOutput('--junit', '/proc/loadtest-x.xml', '<x/>')).toBe(false);
      expect(said).toHaveBeenCalledWith(
        expect.stringMatching(/^error: --junit \/proc\/loadtest-x\.xml: could not be written \(\w+\)$/),
      );
    } finally {
      said.mockRestore();
    }
  });
});

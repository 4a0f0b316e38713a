import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../runner/cli/errors.js';
import { appendStepSummary, checkOutputs, writeOutput } from '../../runner/cli/outputs.js';

describe("a command's output files", () => {
  it('are checked before any work: a folder, or a path under a file, is bad input naming the flag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-outputs-'));
    const file = join(dir, 'taken.txt');
    await writeFile(file, 'x');
    await expect(checkOutputs([['--html', dir]])).rejects.toThrow(
      new UsageError(`--html ${dir}: that is a folder; name a file (in it)`),
    );
    // The cause named is the file in the way, not Node's EEXIST.
    await expect(checkOutputs([['--junit', join(file, 'x.xml')]])).rejects.toThrow(
      new UsageError(
        `--junit ${join(file, 'x.xml')}: cannot be written here (${file} is a file, not a folder)`,
      ),
    );
    await expect(checkOutputs([['--junit', join(file, 'deeper', 'x.xml')]])).rejects.toThrow(
      `(${file} is a file, not a folder)`,
    );
    // A folder no process may create in: refused at once (Node's recursive mkdir loops for ever here).
    await expect(checkOutputs([['--junit', '/proc/loadtest-nope/deeper/x.xml']])).rejects.toThrow(
      /^--junit \/proc\/loadtest-nope\/deeper\/x\.xml: cannot be written here \(ENOENT\)$/,
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

  it('$GITHUB_STEP_SUMMARY is appended to, and one that cannot be is a warning, not a failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loadtest-summary-'));
    const had = process.env.GITHUB_STEP_SUMMARY;
    const warn = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      process.env.GITHUB_STEP_SUMMARY = join(dir, 'summary.md');
      await writeFile(process.env.GITHUB_STEP_SUMMARY, '# before\n');
      await appendStepSummary('# run\n');
      expect(await readFile(process.env.GITHUB_STEP_SUMMARY, 'utf8')).toBe('# before\n# run\n');
      // A path from outside a container, say: no such folder here.
      process.env.GITHUB_STEP_SUMMARY = join(dir, 'no', 'such', 'summary.md');
      await expect(appendStepSummary('# run\n')).resolves.toBeUndefined();
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(
          /^warning: \$GITHUB_STEP_SUMMARY .*summary\.md: could not be appended to \(ENOENT\)$/,
        ),
      );
    } finally {
      warn.mockRestore();
      if (had === undefined) delete process.env.GITHUB_STEP_SUMMARY;
      else process.env.GITHUB_STEP_SUMMARY = had;
    }
  });
});

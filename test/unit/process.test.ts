import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppFailed, DataCommandFailed, runToEnd, startProcess } from '../../local/index.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loadtest-process-'));
  await writeFile(join(dir, 'serve.sh'), '#!/bin/sh\necho up\n');
  await chmod(join(dir, 'serve.sh'), 0o644);
});

/** What startProcess throws for a command, or 'started' (then stopped). */
async function startFailure(command: readonly string[] | string, cwd = dir): Promise<unknown> {
  try {
    await startProcess({ command, cwd, env: {} }, {}).stop(0);
    return 'started';
  } catch (err) {
    return err;
  }
}

describe('a command that cannot start', () => {
  it('says why, in the terms of the config: the program, its mode, its folder', async () => {
    const cases: [readonly string[] | string, string, RegExp][] = [
      [
        ['no-such-program-xyz', '--serve'],
        dir,
        /no-such-program-xyz is not on PATH \(a command given as a list/,
      ],
      [['./missing.sh'], dir, /\/missing\.sh does not exist/],
      [
        ['./serve.sh'],
        dir,
        /\/serve\.sh is not executable \(chmod \+x it, or name its interpreter first, e\.g\. \["sh", "\.\/serve\.sh"\]\)/,
      ],
      [['node', '--version'], join(dir, 'serve.sh'), /serve\.sh: that is not a folder \(its cwd\)/],
      [['node', '--version'], join(dir, 'nowhere'), /nowhere: that folder \(its cwd\) does not exist/],
      ['echo hi', join(dir, 'nowhere'), /nowhere: that folder \(its cwd\) does not exist/],
    ];
    for (const [command, cwd, message] of cases) {
      const err = await startFailure(command, cwd);
      expect(err, String(command)).toBeInstanceOf(AppFailed);
      expect((err as Error).message, String(command)).toMatch(/^could not start `/);
      expect((err as Error).message, String(command)).toMatch(message);
    }
    // Node's own 'error' event for these comes a tick later: heard, it crashes nothing.
    await new Promise((r) => setTimeout(r, 50));
    expect(await startFailure(['sh', './serve.sh'])).toBe('started');
  });

  it("is the data command's failure when it is the data command", async () => {
    const err = await runToEnd({ command: ['no-such-seeder-xyz'], cwd: dir, env: {} }, {}).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataCommandFailed);
    expect((err as DataCommandFailed).exitCode).toBeNull();
    expect((err as Error).message).toMatch(
      /could not start `no-such-seeder-xyz` in .*: no-such-seeder-xyz is not on PATH/,
    );
  });

  it('ends loadtest up with exit 3 and one line naming app.start, not a stack trace', async () => {
    const project = join(dir, 'project');
    await mkdir(project, { recursive: true });
    const config = join(project, 'loadtest.config.yml');
    await writeFile(
      config,
      'name: notes\ntables: [{ name: notes, partitionKey: userId }]\napp: { start: [no-such-binary-xyz, --serve] }\n',
    );
    const cli = runCli(
      ['up', '--port', '0', '--gate-port', '0', '--state-dir', join(project, 'state'), '--config', config],
      {
        cwd: project,
      },
    );
    const { code } = await cli.exited;
    expect({ code, stderr: cli.stderr() }).toEqual({
      code: 3,
      stderr: `error: the app (app.start): could not start \`no-such-binary-xyz --serve\` in ${project}: no-such-binary-xyz is not on PATH (a command given as a list runs its first item as a program, with no shell)\n`,
    });
  });

  it("says the app's fixed port is taken before starting it, and a port nobody listens on by its name", async () => {
    const project = join(dir, 'ports');
    await mkdir(project, { recursive: true });
    const holder = createServer(() => {});
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as AddressInfo).port;
    const up = async (app: string) => {
      const config = join(project, 'loadtest.config.yml');
      await writeFile(config, `name: ports\napp: ${app}\n`);
      const cli = runCli(
        ['up', '--port', '0', '--gate-port', '0', '--state-dir', join(project, 'state'), '--config', config],
        { cwd: project },
      );
      return { code: (await cli.exited).code, stderr: cli.stderr() };
    };
    try {
      expect(
        await up(`{ start: { command: [node, -e, "setInterval(() => {}, 1000)"], port: ${taken} } }`),
      ).toEqual({
        code: 3,
        stderr: `error: the app's port ${taken} (app.start.port) is taken by another process on 127.0.0.1: stop that one, or use port: auto (the app is then given a free port in $PORT)\n`,
      });
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    // An app that never listens where it is told: the ready check says so, not a bare ECONNREFUSED.
    const deaf = await up('{ start: [node, -e, "setInterval(() => {}, 1000)"], ready: { timeoutSec: 1 } }');
    expect(deaf.code).toBe(3);
    expect(deaf.stderr).toMatch(
      /was not ready after 1 s \(GET http:\/\/127\.0\.0\.1:(\d+)\/: nothing listens on http:\/\/127\.0\.0\.1:\1: the app must listen on 127\.0\.0\.1:\1, the port it is given in \$PORT\)/,
    );
  }, 60_000);

  it('a run that cannot start still writes its report and JUnit file, saying why', async () => {
    const project = join(dir, 'dies');
    await mkdir(project, { recursive: true });
    const config = join(project, 'loadtest.config.yml');
    await writeFile(config, 'name: dies\napp: { start: [node, -e, "process.exit(7)"] }\n');
    const scenario = join(project, 'smoke.yml');
    await writeFile(
      scenario,
      'config:\n  phases: [{ duration: 1, arrivalCount: 1 }]\nscenarios:\n  - flow: [{ get: { url: /health } }]\n',
    );
    const output = join(project, 'out', 'report.json');
    const junit = join(project, 'out', 'junit.xml');
    const cli = runCli(['run', scenario, '--config', config, '--output', output, '--junit', junit], {
      cwd: project,
    });
    expect((await cli.exited).code, cli.stderr()).toBe(3);
    expect(cli.stderr()).toMatch(
      /^error: the app \(`node -e process\.exit\(7\)`\) exited \(code 7\) before it was ready/m,
    );
    expect(cli.stderr()).not.toMatch(/unexpected failure/);
    const report = JSON.parse(await readFile(output, 'utf8'));
    expect(report).toMatchObject({
      scenario: 'smoke',
      passed: false,
      partial: true,
      patterns: [],
      error: expect.stringMatching(/^the run did not start: the app .* exited \(code 7/),
    });
    expect(await readFile(junit, 'utf8')).toMatch(
      /<testcase classname="loadtest\.smoke" name="run completed"><error message="the run did not start: the app/,
    );
  }, 60_000);

  it('a DynamoDB endpoint that is not a URL is bad input; one nobody serves fails in one line', async () => {
    const bad = runCli([
      'up',
      '--no-app',
      '--port',
      '0',
      '--gate-port',
      '0',
      '--dynamodb-endpoint',
      'notaurl',
    ]);
    expect({ code: (await bad.exited).code, stderr: bad.stderr() }).toEqual({
      code: 2,
      stderr:
        'error: --dynamodb-endpoint: expected an http(s) URL such as http://127.0.0.1:8000, got "notaurl"\n',
    });
    const holder = createServer(() => {});
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const closed = (holder.address() as AddressInfo).port;
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    const down = runCli([
      'up',
      '--no-app',
      '--port',
      '0',
      '--gate-port',
      '0',
      '--state-dir',
      join(dir, 'down-state'),
      '--dynamodb-endpoint',
      `http://127.0.0.1:${closed}`,
    ]);
    expect((await down.exited).code).toBe(3);
    expect(down.stderr()).toBe(
      `error: cannot make or read the project's tables at DynamoDB http://127.0.0.1:${closed} (the endpoint given): connect ECONNREFUSED 127.0.0.1:${closed}\n`,
    );
  }, 60_000);
});

#!/usr/bin/env node
// The CLI runs its TypeScript sources through tsx, so `npx loadtest` needs no build step.
// The SDK's notice that Node 20 leaves support in 2027 is not for our users' load-test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../runner/cli/main.ts');
const code = await main();
process.exit(code);

// Stands in for Lambda's Node.js runtime in one invocation: plain Node (no tsx preloaded) imports
// the runner image's entry module the way Lambda does (CMD runner/aws/lambda-entry.handler) and
// calls its `handler` with a context whose clock runs down to the function's timeout.
const entry = process.env.LOADTEST_LAMBDA_ENTRY;
const { handler } = await import(entry);

process.on('message', async (message) => {
  if (message.type !== 'invoke') return;
  const context = { getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()) };
  let reply;
  try {
    reply = { type: 'done', outcome: await handler(message.event, context) };
  } catch (err) {
    reply = { type: 'error', errorType: err?.name ?? 'Error', errorMessage: err?.message ?? String(err) };
  }
  process.send(reply, () => process.exit(0));
});
process.send({ type: 'ready' });

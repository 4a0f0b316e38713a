/**
 * Side effects that must happen before anything else is evaluated: bench/index.ts imports this
 * module first (ESM evaluates imports in order), and child load drivers inherit the environment.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

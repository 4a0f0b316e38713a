export {
  CloudWatchMetricsSource,
  type CloudWatchSourceOptions,
  type CloudWatchTable,
  MAX_QUERIES_PER_REQUEST,
} from './cloudwatch.js';
export {
  ACCESSED_CONTRIBUTORS,
  ContributorInsightsReader,
  HOT_KEYS,
  type InsightRules,
  type InsightTarget,
  THROTTLED_CONTRIBUTORS,
} from './contributor-insights.js';
export { LambdaInvoker } from './invoker.js';
export { handler as lambdaHandler, type LambdaContextLike } from './lambda.js';
export { LAMBDA_PRICING, type Plan, planRun, renderPlan, requestsPerVuser } from './plan.js';
export {
  appUrlOf,
  dashboardConsoleUrl,
  readStackOutputs,
  StackNotReady,
  type StackOutputs,
} from './stack.js';

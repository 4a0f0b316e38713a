export { LoadtestDashboard, type LoadtestDashboardProps } from './cloudwatch.js';
export {
  type Annotation,
  type CloudWatchExpression,
  type CloudWatchMetric,
  type CloudWatchSeries,
  type DashboardDefinition,
  DashboardDefinitionError,
  type DashboardPattern,
  type DashboardTable,
  type DefinitionOptions,
  dashboardDefinition,
  describeThresholdLine,
  type LocalSeries,
  parseThresholds,
  type Row,
  type Series,
  type ThresholdLine,
  type ThresholdsInput,
  type Widget,
  type WidgetRole,
} from './definition.js';
export { type Chart, type ChartRow, type ChartSeries, localCharts, seriesValues } from './local.js';
export { escapeHtml, html, jsonForScript, type PageOptions, renderPage, SafeHtml } from './page.js';
